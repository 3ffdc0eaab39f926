// Issue 12 experiment (docs/case-results.md): `node scripts/experiments/case-logits-combine.mjs A.json B.json …`
// (files written by case-logits.mjs, one per cell encoder). Prints, for each encoder alone and for
// the mean of the case probabilities of every combination of them (an ensemble of encoders): the
// out-of-fold calls of the train+val cases (accuracy, log-loss at the temperature fitted on them,
// softening only, as train-case fits it) and the test calls at that temperature, with the case
// referral threshold fitted on the out-of-fold calls (just above the surest wrong one, at least 70%).
import { readFileSync } from 'node:fs';

const runs = process.argv.slice(2).map((file) => ({ file, ...JSON.parse(readFileSync(file, 'utf8')) }));
if (runs.length === 0) throw new Error('give one or more files written by case-logits.mjs');

const softmax = (row, t = 1) => {
  const scaled = row.map((v) => v / t);
  const max = Math.max(...scaled);
  const e = scaled.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
};
const argmax = (row) => row.indexOf(Math.max(...row));
const nll = (rows, labels, t) => -rows.reduce((sum, row, i) => sum + Math.log(softmax(row, t)[labels[i]] + 1e-12), 0) / rows.length;
/** Softening only, as train-case: T in [1, 20] on a log grid. */
const fitTemperature = (rows, labels) => {
  let best = { loss: Infinity, t: 1 };
  for (let k = 0; k < 300; k++) {
    const t = Math.exp((Math.log(20) * k) / 299);
    const loss = nll(rows, labels, t);
    if (loss < best.loss) best = { loss, t };
  }
  return best.t;
};

/** Log of the mean of the members' case probabilities, for the cases every member called. */
function combined(members, part) {
  const ids = members[0][part].map((c) => c.id).filter((id) => members.every((m) => m[part].some((c) => c.id === id)));
  const rows = ids.map((id) => {
    const probs = members.map((m) => softmax(m[part].find((c) => c.id === id).logits));
    return probs[0].map((_, k) => Math.log(probs.reduce((s, p) => s + p[k], 0) / probs.length));
  });
  const labels = ids.map((id) => members[0][part].find((c) => c.id === id).label);
  return { rows, labels };
}

function line(members) {
  const oof = combined(members, 'oof');
  const test = combined(members, 'test');
  const t = fitTemperature(oof.rows, oof.labels);
  const acc = ({ rows, labels }) => rows.filter((row, i) => argmax(row) === labels[i]).length / rows.length;
  const wrongConfidence = oof.rows.flatMap((row, i) => (argmax(row) === oof.labels[i] ? [] : [Math.max(...softmax(row, t))]));
  const threshold = Math.max(0.7, wrongConfidence.length ? Math.max(...wrongConfidence) + 1e-6 : 0.7);
  const kept = test.rows.map((row) => Math.max(...softmax(row, t)) >= threshold);
  const keptRight = test.rows.filter((row, i) => kept[i] && argmax(row) === test.labels[i]).length;
  const name = members.map((m) => m.file.replace(/^.*\//, '').replace(/\.json$/, '')).join(' + ');
  const pct = (v) => `${(v * 100).toFixed(1)}%`;
  console.log(`${name}: out-of-fold ${pct(acc(oof))}, log-loss ${nll(oof.rows, oof.labels, t).toFixed(3)} (${oof.rows.length} cases, T ${t.toFixed(2)}) | test ${pct(acc(test))}, log-loss ${nll(test.rows, test.labels, t).toFixed(3)} (${test.rows.length}) | referral ${pct(threshold)}: ${kept.filter((k) => !k).length} referred, ${keptRight} of ${kept.filter(Boolean).length} right`);
}

for (let mask = 1; mask < 1 << runs.length; mask++) line(runs.filter((_, i) => mask & (1 << i)));
