// Small DOM and formatting helpers shared by the page's modules.

export const $ = (id) => document.getElementById(id);
export const pct = (p) => `${(p * 100).toFixed(1)}%`;
export const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

/** What each overlay choice is called, for people. */
export const OVERLAY_NAMES = { 'attention-pool': 'attention', 'attention-grad': 'attention', gradcam: 'Grad-CAM', none: 'no' };
