// One case = the images of one patient: the mean calibrated probabilities decide the call, and the
// images are ranked by how strongly each supports it (its own probability of the called class).

export interface CaseSummary {
  images: number;
  /** Mean calibrated probability of each class over the case's images. */
  probabilities: number[];
  predicted: number;
  refer: boolean;
  /** Image indices, most supportive of the call first. */
  ranking: number[];
}

export function summarizeCase(probabilities: number[][], referralThreshold: number): CaseSummary {
  if (probabilities.length === 0) throw new Error('summarizeCase: a case needs at least one image');
  const classes = probabilities[0].length;
  const mean = new Array<number>(classes).fill(0);
  for (const row of probabilities) row.forEach((p, c) => { mean[c] += p / probabilities.length; });
  const predicted = mean.indexOf(Math.max(...mean));
  const ranking = probabilities.map((_, i) => i).sort((a, b) => probabilities[b][predicted] - probabilities[a][predicted] || a - b);
  return { images: probabilities.length, probabilities: mean, predicted, refer: mean[predicted] < referralThreshold, ranking };
}
