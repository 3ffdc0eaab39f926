import type { Rows } from './rows.js';

export interface PatientPredictions {
  /** Patients in order of their first image. */
  patientIds: string[];
  /** Mean of each patient's image probabilities. */
  probs: Float64Array[];
  labels: number[];
  imagesPerPatient: number[];
}

/**
 * True when every patient's images carry one label: the label belongs to the patient (a subtype),
 * so pooling a patient's images into one call means something. A lab's cell-type data (many cell
 * classes per patient) is false: there the patient is a resampling unit, not a prediction.
 */
export function labelsBelongToPatients(labels: ArrayLike<number>, patientIds: readonly string[]): boolean {
  const labelOf = new Map<string, number>();
  for (let i = 0; i < patientIds.length; i++) {
    const seen = labelOf.get(patientIds[i]);
    if (seen === undefined) labelOf.set(patientIds[i], labels[i]);
    else if (seen !== labels[i]) return false;
  }
  return true;
}

/**
 * A diagnosis is made per patient, not per cell, so the lab-relevant numbers come from pooling a
 * patient's images. Averaging probabilities (rather than voting) keeps a calibrated-looking
 * distribution that the same metrics, ROC and ECE included, can be computed on.
 */
export function aggregateByPatient(probs: Rows, labels: ArrayLike<number>, patientIds: readonly string[]): PatientPredictions {
  if (probs.length !== labels.length || probs.length !== patientIds.length) {
    throw new Error(`aggregateByPatient: ${probs.length} probability rows, ${labels.length} labels and ${patientIds.length} patient ids must all be equal`);
  }
  const indexOf = new Map<string, number>();
  const result: PatientPredictions = { patientIds: [], probs: [], labels: [], imagesPerPatient: [] };
  for (let i = 0; i < probs.length; i++) {
    const id = patientIds[i];
    if (id === '') throw new Error(`aggregateByPatient: image ${i} has an empty patient id`);
    let p = indexOf.get(id);
    if (p === undefined) {
      p = result.patientIds.length;
      indexOf.set(id, p);
      result.patientIds.push(id);
      result.probs.push(new Float64Array(probs[i].length));
      result.labels.push(labels[i]);
      result.imagesPerPatient.push(0);
    } else if (result.labels[p] !== labels[i]) {
      throw new Error(`aggregateByPatient: patient "${id}" has images labelled ${result.labels[p]} and ${labels[i]}; a patient must have one class (fix the manifest)`);
    }
    const sum = result.probs[p];
    for (let k = 0; k < sum.length; k++) sum[k] += probs[i][k];
    result.imagesPerPatient[p]++;
  }
  result.probs.forEach((sum, p) => {
    for (let k = 0; k < sum.length; k++) sum[k] /= result.imagesPerPatient[p];
  });
  return result;
}
