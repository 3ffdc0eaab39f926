import type { TopLevelSpec } from 'vega-lite';
import { chartConfig, SMALL_CHART } from './chart-theme.js';
import { renderVegaLiteToSvg } from './vega-svg.js';

/** One method's mean deletion or insertion curve: probability of the explained class against the fraction of pixels. */
export interface FaithfulnessSeries {
  method: string;
  mode: 'deletion' | 'insertion';
  fractions: number[];
  probabilities: number[];
  auc: number;
}

/** Deletion and insertion side by side, a line per method with its AUC in the legend. */
export function faithfulnessChartSpec(series: FaithfulnessSeries[], title: string): TopLevelSpec {
  const panel = (mode: FaithfulnessSeries['mode'], better: string) => {
    const chosen = series.filter((s) => s.mode === mode);
    const label = (s: FaithfulnessSeries) => `${s.method} (AUC ${s.auc.toFixed(3)})`;
    return {
      title: `${mode[0].toUpperCase()}${mode.slice(1)} (${better} AUC is more faithful)`,
      ...SMALL_CHART,
      width: 300,
      data: { values: chosen.flatMap((s) => s.fractions.map((fraction, i) => ({ series: label(s), fraction, probability: s.probabilities[i] }))) },
      mark: { type: 'line' as const, strokeWidth: 2 },
      encoding: {
        x: { field: 'fraction', type: 'quantitative' as const, title: mode === 'deletion' ? 'fraction of pixels removed' : 'fraction of pixels restored', scale: { domain: [0, 1] } },
        y: { field: 'probability', type: 'quantitative' as const, title: 'probability of the explained class', scale: { domain: [0, 1] } },
        color: { field: 'series', type: 'nominal' as const, title: null, sort: chosen.map(label), legend: { orient: 'bottom' as const, direction: 'vertical' as const, labelLimit: 260 } },
      },
    };
  };
  return { config: chartConfig, title, hconcat: [panel('deletion', 'lower'), panel('insertion', 'higher')], resolve: { scale: { color: 'independent' } } };
}

export function faithfulnessChartSvg(series: FaithfulnessSeries[], title: string): Promise<string> {
  return renderVegaLiteToSvg(faithfulnessChartSpec(series, title), 'faithfulness');
}
