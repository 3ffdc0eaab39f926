// Talking to the server about the open case. Images are sent in batches that keep under the API's
// per-request limits (files and bytes), one batch at a time; a batch the server refuses as a whole
// (a bad file name, a file too large) is retried file by file, so one bad file is skipped by name
// and the others still join the case.

export const casePath = (caseId) => `/api/cases/${encodeURIComponent(caseId)}`;

export class RequestError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `the server answered ${status}`);
    this.status = status;
    this.code = body?.error?.code ?? 'error';
  }
}

export async function fetchJson(url, options = {}) {
  const response = await fetch(url, options);
  if (response.status === 204) return null;
  let body = null;
  try { body = await response.json(); } catch { /* not JSON: the status says it */ }
  if (!response.ok) throw new RequestError(response.status, body);
  return body;
}

export const sendJson = (url, method, value) => fetchJson(url, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });

const MB = (bytes) => `${Math.round(bytes / 1e6)} MB`;
// Room for the multipart framing of each part and of the form.
const PART_OVERHEAD = 1024;

/** Splits files into batches within the limits; files too large to send at all are returned apart. */
export function planBatches(files, limits) {
  const tooLarge = [];
  const batches = [];
  let batch = [];
  let bytes = 0;
  const budget = limits.maxRequestBytes - 64 * 1024;
  for (const file of files) {
    if (file.size > limits.maxFileBytes) {
      tooLarge.push({ name: file.name, reason: 'file-too-large', message: `${file.name} is ${MB(file.size)}, larger than the ${MB(limits.maxFileBytes)} one image may be` });
      continue;
    }
    const size = file.size + PART_OVERHEAD;
    if (batch.length && (batch.length >= limits.maxFiles || bytes + size > budget)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(file);
    bytes += size;
  }
  if (batch.length) batches.push(batch);
  return { batches, tooLarge };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** One batch; a busy server is asked again a few times, as its Retry-After says. */
async function postBatch(caseId, files, overlays) {
  const form = new FormData();
  for (const file of files) form.append('image', file, file.name);
  for (let attempt = 0; ; attempt++) {
    try {
      return await fetchJson(`${casePath(caseId)}/cells?overlays=${encodeURIComponent(overlays.join(',') || 'none')}`, { method: 'POST', body: form });
    } catch (error) {
      if (!(error instanceof RequestError && error.status === 503 && attempt < 5)) throw error;
      await sleep(2000);
    }
  }
}

/**
 * Adds files to the case. `onBatch({ done, total, view })` is called after each batch with the case
 * as it now stands. Resolves with the files not added (name, reason, message) and the last view.
 */
export async function addToCase(caseId, files, { limits, overlays, onBatch }) {
  const { batches, tooLarge } = planBatches(files, limits);
  const skipped = [...tooLarge];
  let view = null;
  let done = tooLarge.length;
  const total = files.length;
  const sendOne = async (batch) => {
    const answer = await postBatch(caseId, batch, overlays);
    skipped.push(...answer.skipped);
    view = answer.case;
  };
  for (const batch of batches) {
    try {
      await sendOne(batch);
    } catch (error) {
      // A refusal of the whole request (4xx) is about one of its files: try them one at a time.
      if (!(error instanceof RequestError && error.status >= 400 && error.status < 500 && batch.length > 1)) {
        if (!(error instanceof RequestError && error.status < 500)) throw error;
        for (const file of batch) skipped.push({ name: file.name, reason: error.code, message: `${file.name}: ${error.message}` });
      } else {
        for (const file of batch) {
          try {
            await sendOne([file]);
          } catch (single) {
            if (!(single instanceof RequestError && single.status < 500)) throw single;
            skipped.push({ name: file.name, reason: single.code, message: `${file.name}: ${single.message}` });
          }
        }
      }
    }
    done += batch.length;
    onBatch({ done, total, view });
  }
  return { skipped, view };
}
