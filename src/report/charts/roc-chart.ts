import type { TopLevelSpec } from 'vega-lite';
import type { RocOneVsRest } from '../../eval/index.js';
import { formatFixed } from '../format.js';
import { chartConfig } from './chart-theme.js';

/** One-vs-rest ROC curves, one colour per class, with each class's AUC in its legend label. */
export function rocChartSpec(roc: RocOneVsRest, title: string): TopLevelSpec {
  const labelled = roc.perClass.filter((c) => c.auc !== null);
  const legendLabel = (name: string, auc: number | null) => `${name} (AUC ${formatFixed(auc)})`;
  const values = labelled.flatMap((curve) =>
    curve.points.map((p, order) => ({
      curve: legendLabel(curve.className, curve.auc),
      order,
      fpr: p.falsePositiveRate,
      tpr: p.truePositiveRate,
    })),
  );
  return {
    config: chartConfig,
    title,
    width: 300,
    height: 300,
    layer: [
      {
        data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] },
        mark: { type: 'line', strokeDash: [4, 4], color: '#98a2b3', strokeWidth: 1 },
        encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
      },
      {
        data: { values },
        mark: { type: 'line', strokeWidth: 2, interpolate: 'linear' },
        encoding: {
          x: { field: 'fpr', type: 'quantitative', title: 'false positive rate', scale: { domain: [0, 1] } },
          y: { field: 'tpr', type: 'quantitative', title: 'true positive rate', scale: { domain: [0, 1] } },
          order: { field: 'order', type: 'quantitative' },
          color: {
            field: 'curve',
            type: 'nominal',
            title: 'class',
            sort: labelled.map((c) => legendLabel(c.className, c.auc)),
            legend: { orient: 'right', labelLimit: 240 },
          },
        },
      },
    ],
  };
}
