// The case view: upload images, show each prediction with its overlay, summarise the case, export it.
// Plain DOM, no dependencies; every user-supplied string goes through textContent or escapeHtml.

const $ = (id) => document.getElementById(id);

// The overlay is drawn opaque over the cell, so past this opacity the cell itself disappears: the
// slider stops here, and a remembered value (from an older page, or edited) is clamped into range.
const OPACITY_KEY = 'aplnet.opacity';
const DEFAULT_OPACITY = 0.45;
const MAX_OPACITY = 0.6;

function rememberedOpacity() {
  let stored = null;
  try { stored = localStorage.getItem(OPACITY_KEY); } catch { /* storage disabled: use the default */ }
  const value = stored === null ? NaN : Number(stored);
  return Number.isFinite(value) ? Math.min(MAX_OPACITY, Math.max(0, value)) : DEFAULT_OPACITY;
}

const state = { model: null, result: null, overlay: 'attention-grad', opacity: rememberedOpacity() };

const pct = (p) => `${(p * 100).toFixed(1)}%`;
const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function setStatus(message, isError = false) {
  $('status').textContent = message;
  $('status').classList.toggle('error', isError);
}

function bars(probabilities, label) {
  const entries = Object.entries(probabilities);
  const top = Math.max(...entries.map(([, p]) => p));
  const list = el('ul', { class: 'bars', 'aria-label': label });
  for (const [name, p] of entries) {
    const fill = el('div', { class: 'fill' });
    fill.style.width = pct(p);
    list.append(el('li', { class: p === top ? 'top' : '' }, el('span', { class: 'name', text: name, title: name }), el('div', { class: 'track', 'aria-hidden': 'true' }, fill), el('span', { class: 'value', text: pct(p) })));
  }
  return list;
}

function flag(refer) {
  return refer
    ? el('span', { class: 'flag refer', text: '⚠ Refer to a specialist' })
    : el('span', { class: 'flag ok', text: 'Above referral threshold' });
}

function overlayImages(image) {
  const heatmap = el('img', { class: 'heatmap', alt: '' });
  const stack = el('div', { class: 'stack' }, el('img', { src: image.input, alt: `${image.file} as the model saw it` }), heatmap);
  updateOverlay(heatmap, image);
  return stack;
}

function updateOverlay(heatmap, image) {
  const src = state.overlay === 'none' ? null : image.heatmaps[state.overlay];
  heatmap.hidden = !src;
  if (src) heatmap.src = src;
  heatmap.style.opacity = String(state.opacity);
}

function renderCase(result) {
  const c = result.case;
  const body = $('case-body');
  body.replaceChildren(
    el('p', { class: 'call' }, `${c.predicted} `, el('span', { class: 'muted', text: `${pct(c.probability)} mean over ${c.images} image${c.images === 1 ? '' : 's'}` }), flag(c.refer)),
    bars(c.probabilities, 'Mean probability of each class over the case'),
    el('p', { class: 'muted small', text: `Referral threshold ${pct(result.referralThreshold)}. Images below are ranked by their probability of ${c.predicted}.` }),
  );
  $('case').hidden = false;
}

function renderImages(result) {
  const called = result.case.predicted;
  const cards = result.case.ranking.map((index, rank) => {
    const image = result.images[index];
    const card = el('article', { class: 'image-card', 'data-index': String(index), 'aria-label': `Image ${rank + 1}: ${image.file}` },
      el('h3', {}, el('span', { class: 'rank', text: `#${rank + 1} ` }), image.file),
      overlayImages(image),
      el('p', { class: 'call' }, image.predicted, el('span', { class: 'muted', text: ` ${pct(image.confidence)}` }), flag(image.refer)),
      el('p', { class: 'muted small', text: `Support for ${called}: ${pct(image.probabilities[called])}${image.notes.length ? ` · converted: ${image.notes.join(', ')}` : ''}` }),
      bars(image.probabilities, `Probability of each class for ${image.file}`),
    );
    return card;
  });
  $('images').replaceChildren(...cards);
}

async function predict(files) {
  if (files.length === 0) return;
  const form = new FormData();
  for (const file of files) form.append('image', file, file.name);
  setStatus(`Analysing ${files.length} image${files.length === 1 ? '' : 's'}…`);
  $('drop').setAttribute('aria-busy', 'true');
  try {
    const response = await fetch('/api/predict', { method: 'POST', body: form });
    const body = await response.json();
    if (!response.ok) {
      const details = body.error?.files?.map((f) => `${f.name}: ${f.message}`).join('; ');
      setStatus(`Not analysed: ${details || body.error?.message || response.statusText}`, true);
      return;
    }
    state.result = body;
    renderCase(body);
    renderImages(body);
    $('controls').hidden = false;
    setStatus(`Done: ${body.images.length} image${body.images.length === 1 ? '' : 's'} in ${(body.elapsedMs / 1000).toFixed(1)} s.`);
  } catch (error) {
    setStatus(`Not analysed: ${error.message}`, true);
  } finally {
    $('drop').removeAttribute('aria-busy');
  }
}

function applyOverlaySettings() {
  if (!state.result) return;
  for (const card of document.querySelectorAll('.image-card')) {
    updateOverlay(card.querySelector('img.heatmap'), state.result.images[Number(card.dataset.index)]);
  }
}

function loadImage(src) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = reject;
    img.src = src;
  });
}

/** The image with the current overlay burnt in, as a PNG data URL (for the export). */
async function blended(image) {
  const base = await loadImage(image.input);
  const canvas = document.createElement('canvas');
  canvas.width = base.naturalWidth;
  canvas.height = base.naturalHeight;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(base, 0, 0);
  const src = state.overlay === 'none' ? null : image.heatmaps[state.overlay];
  if (src) {
    ctx.globalAlpha = state.opacity;
    ctx.drawImage(await loadImage(src), 0, 0);
  }
  return canvas.toDataURL('image/png');
}

function barsHtml(probabilities) {
  const top = Math.max(...Object.values(probabilities));
  return `<table>${Object.entries(probabilities).map(([name, p]) => `<tr${p === top ? ' class="top"' : ''}><th>${escapeHtml(name)}</th><td><div class="bar" style="width:${(p * 100).toFixed(1)}%"></div></td><td>${pct(p)}</td></tr>`).join('')}</table>`;
}

async function exportCase() {
  const result = state.result;
  if (!result) return;
  const c = result.case;
  const overlayName = { 'attention-grad': 'attention', gradcam: 'Grad-CAM', none: 'no' }[state.overlay];
  const cards = [];
  for (const [rank, index] of c.ranking.entries()) {
    const image = result.images[index];
    cards.push(`<section><h3>#${rank + 1} ${escapeHtml(image.file)}</h3><img src="${await blended(image)}" alt="${escapeHtml(image.file)}">
<p><b>${escapeHtml(image.predicted)}</b> ${pct(image.confidence)}${image.refer ? ' <span class="refer">Refer to a specialist</span>' : ''}</p>${barsHtml(image.probabilities)}</section>`);
  }
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>aplnet case — ${escapeHtml(c.predicted)}</title>
<style>body{font:15px/1.4 system-ui,sans-serif;max-width:1000px;margin:1rem auto;padding:0 1rem;color:#1b1f24}
section{display:inline-block;vertical-align:top;width:300px;margin:0 1rem 1rem 0}img{width:288px;height:288px}
table{border-collapse:collapse;width:100%}th{text-align:left;font-weight:normal;width:40%}td:last-child{text-align:right;width:4rem}
.bar{background:#8aa4c8;height:.8rem}tr.top .bar{background:#1f5fbf}tr.top th{font-weight:700}.refer{color:#a33b00;font-weight:700}.muted{color:#5b6470}</style></head>
<body><h1>aplnet case report</h1><p class="muted">Model ${escapeHtml(result.model)} · exported ${new Date().toLocaleString()} · ${overlayName} overlay at ${Math.round(state.opacity * 100)}% · research and decision support, not a diagnosis</p>
<h2>Case: ${escapeHtml(c.predicted)} ${pct(c.probability)} (mean of ${c.images} image${c.images === 1 ? '' : 's'})${c.refer ? ' <span class="refer">Refer to a specialist</span>' : ''}</h2>
${barsHtml(c.probabilities)}<p class="muted">Referral threshold ${pct(result.referralThreshold)}. Images ranked by their probability of ${escapeHtml(c.predicted)}.</p>
${cards.join('\n')}</body></html>`;
  const link = el('a', { href: URL.createObjectURL(new Blob([html], { type: 'text/html' })), download: `aplnet-case-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.html` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

function renderModelCard(model) {
  const rows = [
    ['Model', model.name], ['Classes', model.classes.join(', ')], ['Input', `${model.inputSize}×${model.inputSize} px`],
    ['Trained', new Date(model.createdAt).toLocaleString()], ['aplnet', model.aplnetVersion],
    ['Calibration', `temperature ${model.calibration.temperature.toFixed(3)} (fitted on ${model.calibration.fittedOn})`],
    ['Referral threshold', pct(model.calibration.referralThreshold)],
  ];
  if (model.metrics) rows.push(['Metrics', Object.entries(model.metrics).map(([k, v]) => `${k} ${v}`).join(' · ')]);
  const list = el('dl');
  for (const [key, value] of rows) list.append(el('dt', { text: key }), el('dd', { text: value }));
  const extras = [el('p', { class: 'small', text: model.intendedUse })];
  if (model.hasReport) extras.push(el('p', {}, el('a', { href: '/report', target: '_blank', rel: 'noopener', text: 'Training report' })));
  extras.push(el('p', { class: 'small' }, el('a', { href: '/api/openapi.json', text: 'API (OpenAPI)' })));
  $('model-card').replaceChildren(list, ...extras);
}

async function init() {
  const response = await fetch('/api/model');
  state.model = await response.json();
  $('model-name').textContent = `${state.model.name} · ${state.model.classes.length} classes`;
  renderModelCard(state.model);
  $('model-button').addEventListener('click', () => $('model-dialog').showModal());

  const drop = $('drop');
  for (const type of ['dragenter', 'dragover']) drop.addEventListener(type, (e) => { e.preventDefault(); drop.classList.add('over'); });
  for (const type of ['dragleave', 'drop']) drop.addEventListener(type, () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => { e.preventDefault(); predict([...e.dataTransfer.files]); });
  // Dropping beside the zone must not navigate away from the case.
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => e.preventDefault());
  $('file-input').addEventListener('change', (e) => { predict([...e.target.files]); e.target.value = ''; });

  for (const radio of document.querySelectorAll('input[name="overlay"]')) {
    radio.addEventListener('change', () => { state.overlay = radio.value; applyOverlaySettings(); });
  }
  const showOpacity = () => {
    const percent = String(Math.round(state.opacity * 100));
    $('opacity').max = String(MAX_OPACITY * 100);
    $('opacity').value = percent;
    $('opacity-value').textContent = `${percent}%`;
    $('opacity').setAttribute('aria-valuetext', `${percent}%`);
  };
  showOpacity();
  $('opacity').addEventListener('input', (e) => {
    state.opacity = Math.min(MAX_OPACITY, Number(e.target.value) / 100);
    showOpacity();
    try { localStorage.setItem(OPACITY_KEY, String(state.opacity)); } catch { /* not remembered; still applied */ }
    applyOverlaySettings();
  });
  $('export').addEventListener('click', () => exportCase().catch((error) => setStatus(`Export failed: ${error.message}`, true)));
  $('clear').addEventListener('click', () => {
    state.result = null;
    $('case').hidden = true;
    $('controls').hidden = true;
    $('images').replaceChildren();
    setStatus('');
    $('file-input').focus();
  });
}

init().catch((error) => setStatus(`Cannot reach the aplnet server: ${error.message}`, true));
