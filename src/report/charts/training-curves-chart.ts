import type { TopLevelSpec } from 'vega-lite';
import type { TrainingCurveRow } from '../report-input.js';
import { chartConfig, SMALL_CHART } from './chart-theme.js';

type Series = { column: keyof TrainingCurveRow; label: string };

/** A line per series over epochs, long format so vega-lite can colour and label them. */
function curveSpec(
  rows: readonly TrainingCurveRow[],
  title: string,
  yAxis: { title: string; scale?: object; format?: string },
  series: Series[],
): TopLevelSpec {
  const values = rows.flatMap((row) =>
    series.flatMap(({ column, label }) => (row[column] === null ? [] : [{ epoch: row.epoch, series: label, value: row[column] }])),
  );
  return {
    config: chartConfig,
    title,
    ...SMALL_CHART,
    data: { values },
    mark: { type: 'line', point: rows.length <= 40, strokeWidth: 2 },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1 } },
      y: { field: 'value', type: 'quantitative', title: yAxis.title, scale: { zero: false, ...yAxis.scale }, axis: { format: yAxis.format } },
      // A single series needs no legend; several get one below the plot, one entry per line so long names stay whole.
      color: {
        field: 'series',
        type: 'nominal',
        title: null,
        sort: series.map((s) => s.label),
        legend: series.length === 1 ? null : { orient: 'bottom', direction: 'vertical', labelLimit: 240 },
      },
    },
  };
}

export function lossCurveSpec(rows: readonly TrainingCurveRow[]): TopLevelSpec {
  return curveSpec(rows, 'Loss', { title: 'cross-entropy' }, [
    { column: 'train_loss', label: 'train' },
    { column: 'val_loss', label: 'validation' },
  ]);
}

export function accuracyCurveSpec(rows: readonly TrainingCurveRow[]): TopLevelSpec {
  return curveSpec(rows, 'Accuracy and macro-F1', { title: 'score', scale: { domainMax: 1 } }, [
    { column: 'train_acc', label: 'train accuracy' },
    { column: 'val_acc', label: 'validation accuracy' },
    { column: 'val_macro_f1', label: 'validation macro-F1' },
  ]);
}

export function learningRateSpec(rows: readonly TrainingCurveRow[]): TopLevelSpec {
  return curveSpec(rows, 'Learning rate', { title: 'learning rate', scale: { zero: true }, format: '.1e' }, [{ column: 'lr', label: 'learning rate' }]);
}
