import { checkLabels } from './validate.js';

/** counts[trueClass][predictedClass], as scikit-learn lays it out (rows are the truth). */
export function confusionMatrix(labels: ArrayLike<number>, predictions: ArrayLike<number>, numClasses: number): number[][] {
  if (labels.length !== predictions.length) {
    throw new Error(`confusionMatrix: ${labels.length} labels but ${predictions.length} predictions`);
  }
  checkLabels(labels, numClasses);
  checkLabels(predictions, numClasses, 'predictions');
  const counts = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < labels.length; i++) counts[labels[i]][predictions[i]]++;
  return counts;
}
