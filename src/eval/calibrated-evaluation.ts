import { evaluateClassifier, type ClassifierReport } from './evaluate-classifier.js';
import type { Rows } from './rows.js';
import { fitTemperature, type TemperatureFit } from './temperature-scaling.js';

export interface LabelledLogits {
  logits: Rows;
  labels: ArrayLike<number>;
  patientIds?: readonly string[];
}

export interface CalibratedEvaluation {
  temperatureFit: TemperatureFit;
  uncalibrated: ClassifierReport;
  calibrated: ClassifierReport;
}

/**
 * The honest protocol: the temperature is fitted on the validation split only, then the test
 * split is evaluated at T = 1 and at the fitted T, so "before" and "after" differ in nothing else.
 */
export function evaluateWithTemperatureScaling(input: {
  validation: LabelledLogits;
  test: LabelledLogits;
  classNames: readonly string[];
  referralThreshold?: number;
}): CalibratedEvaluation {
  const temperatureFit = fitTemperature(input.validation.logits, input.validation.labels);
  const common = {
    logits: input.test.logits,
    labels: input.test.labels,
    patientIds: input.test.patientIds,
    classNames: input.classNames,
    referralThreshold: input.referralThreshold,
  };
  return {
    temperatureFit,
    uncalibrated: evaluateClassifier({ ...common, temperature: 1 }),
    calibrated: evaluateClassifier({ ...common, temperature: temperatureFit.temperature }),
  };
}
