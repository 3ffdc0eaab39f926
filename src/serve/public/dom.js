// Small DOM and formatting helpers shared by the page's modules.

export const $ = (id) => document.getElementById(id);
export const pct = (p) => `${(p * 100).toFixed(1)}%`;

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
