// "Export case (HTML)": one self-contained file with each image, its overlay as shown on the page
// (same layer, same opacity), the colour scale, and the calls.
import { el, escapeHtml, OVERLAY_NAMES, pct } from './dom.js';
import { MAP_FLOOR } from './overlay-settings.js';

function loadImage(src) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = reject;
    img.src = src;
  });
}

/** The image with the overlay burnt in, as a PNG data URL: the layer's own alpha times the opacity, as on the page. */
async function blended(image, overlay, opacity) {
  const base = await loadImage(image.input);
  const canvas = document.createElement('canvas');
  canvas.width = base.naturalWidth;
  canvas.height = base.naturalHeight;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(base, 0, 0);
  const src = overlay === 'none' ? null : image.heatmaps[overlay];
  if (src) {
    ctx.globalAlpha = opacity;
    ctx.drawImage(await loadImage(src), 0, 0);
  }
  return canvas.toDataURL('image/png');
}

function barsHtml(probabilities) {
  const top = Math.max(...Object.values(probabilities));
  return `<table>${Object.entries(probabilities).map(([name, p]) => `<tr${p === top ? ' class="top"' : ''}><th>${escapeHtml(name)}</th><td><div class="bar" style="width:${(p * 100).toFixed(1)}%"></div></td><td>${pct(p)}</td></tr>`).join('')}</table>`;
}

/** The page's legend gradient, read from its stylesheet so the export cannot drift from it. */
function legendHtml(overlay) {
  if (overlay === 'none') return '';
  const gradient = getComputedStyle(document.documentElement).getPropertyValue('--legend-gradient').trim();
  return `<p class="legend"><b>${escapeHtml(overlay)}</b> map value: 0 low <span class="scale" style="background:${gradient}"></span> 1 high (clear below ${MAP_FLOOR})</p>`;
}

export async function exportCase(result, { overlay, opacity }) {
  const c = result.case;
  const cards = [];
  for (const [rank, index] of c.ranking.entries()) {
    const image = result.images[index];
    cards.push(`<section><h3>#${rank + 1} ${escapeHtml(image.file)}</h3><div class="pair"><img src="${image.input}" alt="${escapeHtml(image.file)}, original"><img src="${await blended(image, overlay, opacity)}" alt="${escapeHtml(image.file)}, ${OVERLAY_NAMES[overlay]} overlay"></div>
<p><b>${escapeHtml(image.predicted)}</b> ${pct(image.confidence)}${image.refer ? ' <span class="refer">Refer to a specialist</span>' : ''}</p>${barsHtml(image.probabilities)}</section>`);
  }
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>aplnet case — ${escapeHtml(c.predicted)}</title>
<style>body{font:15px/1.4 system-ui,sans-serif;max-width:1000px;margin:1rem auto;padding:0 1rem;color:#1b1f24}
section{display:inline-block;vertical-align:top;width:300px;margin:0 1rem 1rem 0}.pair{display:flex;gap:4px}.pair img{width:148px;height:148px}
.legend{display:flex;align-items:center;gap:.4rem}.scale{display:inline-block;width:160px;height:12px;border:1px solid #8a94a0}
table{border-collapse:collapse;width:100%}th{text-align:left;font-weight:normal;width:40%}td:last-child{text-align:right;width:4rem}
.bar{background:#8aa4c8;height:.8rem}tr.top .bar{background:#1f5fbf}tr.top th{font-weight:700}.refer{color:#a33b00;font-weight:700}.muted{color:#5b6470}</style></head>
<body><h1>aplnet case report</h1><p class="muted">Model ${escapeHtml(result.model)} · exported ${new Date().toLocaleString()} · ${OVERLAY_NAMES[overlay]} overlay at ${Math.round(opacity * 100)}% · research and decision support, not a diagnosis</p>
${legendHtml(overlay)}
<h2>Case: ${escapeHtml(c.predicted)} ${pct(c.probability)} (mean of ${c.images} image${c.images === 1 ? '' : 's'})${c.refer ? ' <span class="refer">Refer to a specialist</span>' : ''}</h2>
${barsHtml(c.probabilities)}<p class="muted">Referral threshold ${pct(result.referralThreshold)}. Images ranked by their probability of ${escapeHtml(c.predicted)}.</p>
${cards.join('\n')}</body></html>`;
  const link = el('a', { href: URL.createObjectURL(new Blob([html], { type: 'text/html' })), download: `aplnet-case-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.html` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}
