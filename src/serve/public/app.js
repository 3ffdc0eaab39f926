// The case view: upload images, show each prediction with its overlay, summarise the case, export it.
// Plain DOM, no dependencies; every user-supplied string goes through textContent or escapeHtml.

import { $, el, pct } from './dom.js';
import { exportCase } from './export-case.js';
import { MAP_FLOOR, MAX_OPACITY, rememberedOpacity, rememberOpacity } from './overlay-settings.js';

const state = { model: null, result: null, overlay: 'attention-grad', opacity: rememberedOpacity() };

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

/** The original beside the same image with the map laid over it, as the CLI's panel draws them. */
function overlayImages(image) {
  const heatmap = el('img', { class: 'heatmap', alt: '' });
  const original = el('figure', { class: 'view original' }, el('div', { class: 'stack' }, el('img', { src: image.input, alt: `${image.file} as the model saw it` })), el('figcaption', { text: 'original' }));
  const overlaid = el('figure', { class: 'view overlaid' }, el('div', { class: 'stack' }, el('img', { src: image.input, alt: '' }), heatmap), el('figcaption', { class: 'overlay-caption' }));
  updateOverlay(overlaid, image);
  return el('div', { class: 'pair' }, original, overlaid);
}

function updateOverlay(figure, image) {
  const heatmap = figure.querySelector('img.heatmap');
  const src = state.overlay === 'none' ? null : image.heatmaps[state.overlay];
  heatmap.hidden = !src;
  if (src) heatmap.src = src;
  heatmap.style.opacity = String(state.opacity);
  figure.querySelector('figcaption').textContent = src ? `overlay ${Math.round(state.opacity * 100)}%` : 'no overlay';
}

function updateLegend() {
  $('legend').hidden = state.overlay === 'none';
  $('legend-method').textContent = state.overlay;
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
    updateOverlay(card.querySelector('figure.overlaid'), state.result.images[Number(card.dataset.index)]);
  }
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

/** The Attention choice shows the model's own map: its attention-pooling weights when it has them. */
function showModelsOwnMap(method) {
  const choice = $('attention-choice');
  choice.querySelector('input').value = method;
  if (method === 'attention-pool') choice.title = 'The weights the model sums its per-position class evidence with: each class score is computed from exactly this map';
  state.overlay = method;
}

async function init() {
  const response = await fetch('/api/model');
  state.model = await response.json();
  $('model-name').textContent = `${state.model.name} · ${state.model.classes.length} classes`;
  renderModelCard(state.model);
  showModelsOwnMap(state.model.defaultMaps[0]);
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
    radio.addEventListener('change', () => { state.overlay = radio.value; updateLegend(); applyOverlaySettings(); });
  }
  const showOpacity = () => {
    const percent = String(Math.round(state.opacity * 100));
    $('opacity').max = String(MAX_OPACITY * 100);
    $('opacity').value = percent;
    $('opacity-value').textContent = `${percent}%`;
    $('opacity').setAttribute('aria-valuetext', `${percent}%`);
  };
  showOpacity();
  updateLegend();
  $('legend-floor').textContent = `clear below ${MAP_FLOOR}`;
  $('opacity').addEventListener('input', (e) => {
    state.opacity = rememberOpacity(Number(e.target.value) / 100);
    showOpacity();
    applyOverlaySettings();
  });
  $('export').addEventListener('click', () => state.result && exportCase(state.result, state).catch((error) => setStatus(`Export failed: ${error.message}`, true)));
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
