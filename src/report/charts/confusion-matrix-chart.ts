import type { TopLevelSpec } from 'vega-lite';
import { chartConfig } from './chart-theme.js';

/**
 * Heatmap coloured by the row-normalised rate (the share of each true class that went to each
 * prediction) so that rare classes are as readable as common ones; the cell text is the count.
 */
export function confusionMatrixChartSpec(matrix: number[][], classNames: readonly string[], title: string): TopLevelSpec {
  const values = matrix.flatMap((row, t) => {
    const support = row.reduce((a, b) => a + b, 0);
    return row.map((count, p) => ({
      truth: classNames[t],
      predicted: classNames[p],
      count,
      rate: support === 0 ? 0 : count / support,
    }));
  });
  const cell = Math.max(26, Math.min(44, Math.floor(360 / classNames.length)));
  const order = [...classNames];
  return {
    config: { ...chartConfig, view: { stroke: null }, axis: { ...chartConfig.axis, domain: false, ticks: false } },
    title,
    width: cell * classNames.length,
    height: cell * classNames.length,
    data: { values },
    encoding: {
      x: { field: 'predicted', type: 'nominal', sort: order, title: 'predicted class', axis: { orient: 'top', labelAngle: -40, labelLimit: 140 } },
      y: { field: 'truth', type: 'nominal', sort: order, title: 'true class', axis: { labelLimit: 140 } },
    },
    layer: [
      {
        mark: { type: 'rect', stroke: '#eaecf0', strokeWidth: 1 },
        encoding: {
          // The ramp starts at white so that an empty cell reads as empty, not as a pale hit; Lab
          // interpolation because vega's default (HCL) tints the white end cyan.
          color: {
            field: 'rate',
            type: 'quantitative',
            title: ['share of', 'true class'],
            scale: { range: ['#ffffff', '#1f4e79'], domain: [0, 1], interpolate: 'lab' },
            legend: { format: '.0%', orient: 'right', gradientLength: 160 },
          },
        },
      },
      {
        mark: { type: 'text', fontSize: 11 },
        encoding: {
          text: { field: 'count', type: 'quantitative' },
          color: { condition: { test: 'datum.rate > 0.5', value: 'white' }, value: '#101828' },
        },
      },
    ],
  };
}
