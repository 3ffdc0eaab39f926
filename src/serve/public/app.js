// The review page: one open case at a time, named by its id (kept in the address, so a reload finds
// it on the server again). Images are added to the case in batches; the summary, the differential
// and the gallery follow each batch; a reviewer confirms or reclassifies cells and exports the case.
// Plain DOM, no dependencies; every user-supplied string goes through textContent.
import { addToCase, casePath, fetchJson, RequestError, sendJson } from './case-client.js';
import { openCellDialog } from './cell-dialog.js';
import { $, el, pct } from './dom.js';
import { Gallery, withoutName } from './gallery.js';
import { MAP_FLOOR, MAX_OPACITY, rememberedOpacity, rememberOpacity } from './overlay-settings.js';
import { renderSummary } from './summary-view.js';

const CASE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const state = { model: null, limits: null, caseId: '', view: null, overlay: 'attention-grad', opacity: rememberedOpacity(), uploading: false, openCell: null };
const settings = () => ({ overlay: state.overlay, opacity: state.opacity });
const gallery = new Gallery($('gallery'), { onOpen: openCell, onReview: review, onConfirmAll: confirmAll, settings });

function setStatus(message, isError = false) {
  $('status').textContent = message;
  $('status').classList.toggle('error', isError);
}

function newCaseId() {
  const now = new Date();
  const two = (n) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${two(now.getMonth() + 1)}${two(now.getDate())}-${two(now.getHours())}${two(now.getMinutes())}${two(now.getSeconds())}`;
  const random = [...crypto.getRandomValues(new Uint8Array(2))].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `case-${stamp}-${random}`;
}

// Files already in the case (same bytes) are one line naming them all: adding a folder twice would
// otherwise bury the one unreadable file among dozens of identical explanations.
function showProblems(skipped) {
  const duplicates = skipped.filter((s) => s.reason === 'duplicate');
  const grouped = duplicates.length > 1;
  const items = skipped.filter((s) => !grouped || s.reason !== 'duplicate')
    .map((s) => el('li', {}, el('b', { text: s.name }), ` — ${withoutName(s.name, s.message)}`, el('span', { class: 'muted small', text: ` (${s.reason})` })));
  if (grouped) {
    items.push(el('li', {}, el('b', { text: `${duplicates.length} files already in this case` }),
      ' (the same bytes as a cell it holds) were not added again: a cell counted twice would skew the differential. ',
      el('span', { class: 'muted small', text: duplicates.map((s) => s.name).join(', ') }),
      el('span', { class: 'muted small', text: ' (duplicate)' })));
  }
  $('problem-list').replaceChildren(...items);
  $('problems').hidden = skipped.length === 0;
}

function updateExportLinks() {
  const base = casePath(state.caseId);
  $('export-csv').href = `${base}/export.csv`;
  $('export-json').href = `${base}/export.json`;
  $('export-html').href = `${base}/export.html?overlay=${encodeURIComponent(state.overlay)}&opacity=${state.opacity}`;
}

/** Names the open case everywhere: the id field, the address (for a reload), the export links. */
function nameCase(caseId) {
  state.caseId = caseId;
  $('case-id').value = caseId;
  history.replaceState(null, '', `#case=${encodeURIComponent(caseId)}`);
  updateExportLinks();
}

/** Takes the case off the screen before anything else is shown: no case stays under another's error. */
function clearScreen() {
  state.view = null;
  for (const id of ['summary', 'controls', 'exports', 'problems']) $(id).hidden = true;
  gallery.clear();
  if ($('cell-dialog').open) $('cell-dialog').close();
  setStatus('');
}

function showCase(view) {
  state.view = view;
  $('gradcam-choice').hidden = !view.cells.some((cell) => cell.images.maps.gradcam);
  renderSummary(view);
  gallery.render(view);
  const has = view.cells.length > 0;
  $('controls').hidden = !has;
  $('exports').hidden = !has;
  if (state.openCell !== null && $('cell-dialog').open) openCell(view.cells[state.openCell]);
}

async function refreshOpenCases() {
  const { cases } = await fetchJson('/api/cases');
  const select = $('open-cases');
  select.replaceChildren(el('option', { value: '', text: cases.length ? `${cases.length} on this server…` : 'none yet' }),
    ...cases.map((c) => el('option', { value: c.caseId, text: `${c.caseId} (${c.cells})` })));
  select.value = '';
}

async function loadCase(caseId) {
  clearScreen();
  nameCase(caseId);
  try {
    showCase(await fetchJson(casePath(caseId)));
    setStatus(`Case ${caseId} reopened: ${state.view.cells.length} image${state.view.cells.length === 1 ? '' : 's'}.`);
  } catch (error) {
    if (!(error instanceof RequestError && error.status === 404)) throw error;
    nameCase(newCaseId());
    setStatus(`${error.message} A new case was started.`, true);
  }
}

async function addFiles(files) {
  if (files.length === 0) return;
  if (state.uploading) {
    setStatus('Images are still being added; wait for this batch to finish.', true);
    return;
  }
  const caseId = state.caseId;
  const started = performance.now();
  state.uploading = true;
  $('drop').setAttribute('aria-busy', 'true');
  const progress = $('progress');
  Object.assign(progress, { max: files.length, value: 0, hidden: false });
  setStatus(`Analysing ${files.length} image${files.length === 1 ? '' : 's'}…`);
  try {
    // The model's own map comes with the forward pass; Grad-CAM needs a backward pass per image.
    const overlays = $('gradcam-too').checked ? state.model.defaultMaps : state.model.defaultMaps.slice(0, 1);
    const { skipped } = await addToCase(caseId, files, {
      limits: state.limits,
      overlays,
      onBatch: ({ done, total, view }) => {
        progress.value = done;
        if (state.caseId !== caseId) return;
        if (view) showCase(view);
        setStatus(`Analysed ${done} of ${total} image${total === 1 ? '' : 's'}…`);
      },
    });
    if (state.caseId !== caseId) return;
    showProblems(skipped);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    setStatus(`Added ${files.length - skipped.length} of ${files.length} image${files.length === 1 ? '' : 's'} to case ${caseId} in ${seconds} s${skipped.length ? `; ${skipped.length} not added (listed below)` : ''}. The case holds ${state.view?.cells.length ?? 0}.`, skipped.length > 0);
    await refreshOpenCases();
  } catch (error) {
    if (state.caseId === caseId) setStatus(`Adding images stopped: ${error.message}. The images added before stay in the case.`, true);
  } finally {
    state.uploading = false;
    progress.hidden = true;
    $('drop').removeAttribute('aria-busy');
  }
}

async function review(index, className) {
  const caseId = state.caseId;
  try {
    const { cell, reviewed } = await sendJson(`${casePath(caseId)}/cells/${index}/review`, 'PUT', { className });
    if (state.caseId !== caseId || !state.view) return;
    state.view.cells[index] = cell;
    state.view.reviewed = reviewed;
    showCase(state.view);
  } catch (error) {
    setStatus(`The review was not saved: ${error.message}`, true);
    if (state.view) showCase(state.view);
  }
}

/** The cells in the order the gallery shows them, for stepping through them one by one. */
const galleryOrder = () => [...document.querySelectorAll('#gallery .tile')].map((tile) => Number(tile.dataset.index));

/** Confirms the model's call on each cell given, one request each, then shows the case once. */
async function confirmAll(indices, className) {
  const caseId = state.caseId;
  let saved = 0;
  try {
    for (const index of indices) {
      const { cell, reviewed } = await sendJson(`${casePath(caseId)}/cells/${index}/review`, 'PUT', { className });
      if (state.caseId !== caseId || !state.view) return;
      state.view.cells[index] = cell;
      state.view.reviewed = reviewed;
      saved += 1;
    }
    setStatus(`Confirmed ${saved} cell${saved === 1 ? '' : 's'} as ${className}.`);
  } catch (error) {
    setStatus(`Confirmed ${saved} of ${indices.length}; the rest were not saved: ${error.message}`, true);
  } finally {
    if (state.caseId === caseId && state.view) showCase(state.view);
  }
}

function openCell(cell) {
  state.openCell = cell.index;
  openCellDialog(cell, state.view, settings(), review);
  const order = galleryOrder();
  const at = order.indexOf(cell.index);
  $('cell-position').textContent = `${at + 1} of ${order.length}`;
  $('cell-previous').disabled = at <= 0;
  $('cell-next').disabled = at >= order.length - 1;
}

function stepCell(delta) {
  const order = galleryOrder();
  const next = order[order.indexOf(state.openCell) + delta];
  if (next !== undefined) openCell(state.view.cells[next]);
}

async function renameCase(event) {
  event.preventDefault();
  const wanted = $('case-id').value.trim();
  if (!CASE_ID.test(wanted)) {
    setStatus('A case id is 1–64 letters, digits, ".", "-" or "_", starting with a letter or digit.', true);
    return;
  }
  if (wanted === state.caseId) return;
  if (!state.view || state.view.cells.length === 0) {
    nameCase(wanted);
    setStatus(`The next images go to case ${wanted}.`);
    return;
  }
  try {
    const view = await sendJson(casePath(state.caseId), 'PATCH', { caseId: wanted });
    nameCase(view.caseId);
    showCase(view);
    setStatus(`Case renamed to ${wanted}.`);
    await refreshOpenCases();
  } catch (error) {
    $('case-id').value = state.caseId;
    setStatus(`Not renamed: ${error.message}`, true);
  }
}

function renderModelCard(model) {
  const rows = [
    ['Model', model.name], ['Classes', model.classes.join(', ')], ['Input', model.framing],
    ['Trained', new Date(model.createdAt).toLocaleString()], ['aplnet', model.aplnetVersion],
    ['Calibration', `temperature ${model.calibration.temperature.toFixed(3)} (fitted on ${model.calibration.fittedOn})`],
    ['Referral threshold', pct(model.calibration.referralThreshold)],
    ['Stated share of flagged cells', pct(state.limits.maxFlaggedShare)],
  ];
  if (model.metrics) rows.push(['Metrics', Object.entries(model.metrics).map(([k, v]) => `${k} ${v}`).join(' · ')]);
  const list = el('dl');
  for (const [key, value] of rows) list.append(el('dt', { text: key }), el('dd', { text: value }));
  const extras = [el('p', { class: 'small', text: model.intendedUse })];
  if (model.hasReport) extras.push(el('p', {}, el('a', { href: '/report', target: '_blank', rel: 'noopener', text: 'Training report' })));
  extras.push(el('p', { class: 'small' }, el('a', { href: '/api/openapi.json', text: 'API (OpenAPI)' })));
  $('model-card').replaceChildren(list, ...extras);
}

/** The Attention choice shows the model's own map; Grad-CAM is offered only when the server computes it. */
function setUpMapChoices(model) {
  const own = model.defaultMaps[0];
  $('attention-choice').querySelector('input').value = own;
  if (own === 'attention-pool') $('attention-choice').title = 'The weights the model sums its per-position class evidence with: each class score is computed from exactly this map';
  if (own === 'evidence') {
    $('attention-choice').title = "Where the model found the evidence for its call: each position's exact share of the called class's score (the attention weight times the local evidence for that class)";
    $('attention-choice').lastChild.textContent = ' Evidence';
  }
  $('with-gradcam').hidden = !model.defaultMaps.includes('gradcam');
  $('gradcam-choice').hidden = true;
  state.overlay = own;
}

function setUpMapControls() {
  const updateLegend = () => {
    $('legend').hidden = state.overlay === 'none';
    $('legend-method').textContent = state.overlay;
  };
  for (const radio of document.querySelectorAll('input[name="overlay"]')) {
    radio.addEventListener('change', () => { state.overlay = radio.value; updateLegend(); gallery.redrawMaps(); updateExportLinks(); });
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
    gallery.redrawMaps();
    updateExportLinks();
  });
}

function setUpDrop() {
  const drop = $('drop');
  for (const type of ['dragenter', 'dragover']) drop.addEventListener(type, (e) => { e.preventDefault(); drop.classList.add('over'); });
  for (const type of ['dragleave', 'drop']) drop.addEventListener(type, () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => { e.preventDefault(); addFiles([...e.dataTransfer.files]); });
  // Dropping beside the zone must not navigate away from the case.
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => e.preventDefault());
  $('file-input').addEventListener('change', (e) => { addFiles([...e.target.files]); e.target.value = ''; });
}

async function init() {
  [state.model, state.limits] = await Promise.all([fetchJson('/api/model'), fetchJson('/api/limits')]);
  $('model-name').textContent = `${state.model.name} · ${state.model.classes.length} classes`;
  renderModelCard(state.model);
  setUpMapChoices(state.model);
  $('model-button').addEventListener('click', () => $('model-dialog').showModal());
  $('cell-dialog').addEventListener('close', () => { state.openCell = null; });
  $('cell-previous').addEventListener('click', () => stepCell(-1));
  $('cell-next').addEventListener('click', () => stepCell(1));
  // Arrow keys step through the cells, except where they change a choice (the review list).
  $('cell-dialog').addEventListener('keydown', (e) => {
    if (e.target.tagName === 'SELECT' || !['ArrowLeft', 'ArrowRight'].includes(e.key)) return;
    e.preventDefault();
    stepCell(e.key === 'ArrowLeft' ? -1 : 1);
  });
  setUpDrop();
  setUpMapControls();
  $('case-id-form').addEventListener('submit', renameCase);
  $('new-case').addEventListener('click', () => {
    clearScreen();
    nameCase(newCaseId());
    $('file-input').focus();
  });
  $('open-cases').addEventListener('change', (e) => { if (e.target.value) loadCase(e.target.value).catch((error) => setStatus(error.message, true)); });
  $('problems-dismiss').addEventListener('click', () => { $('problems').hidden = true; });
  const fromAddress = /^#case=(.+)$/.exec(location.hash);
  let remembered = '';
  try { remembered = fromAddress ? decodeURIComponent(fromAddress[1]) : ''; } catch { /* a mangled address: start a new case */ }
  if (CASE_ID.test(remembered)) await loadCase(remembered);
  else nameCase(newCaseId());
  await refreshOpenCases();
}

init().catch((error) => setStatus(`Cannot reach the aplnet server: ${error.message}`, true));
