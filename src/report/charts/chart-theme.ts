import type { Config } from 'vega-lite';

/** One look for every chart, matching the report's CSS font and greys. */
export const chartConfig: Config = {
  font: 'Helvetica, Arial, sans-serif',
  background: 'white',
  view: { stroke: '#d0d5dd' },
  axis: { labelColor: '#344054', titleColor: '#101828', gridColor: '#eaecf0', labelFontSize: 11, titleFontSize: 12 },
  legend: { labelColor: '#344054', titleColor: '#101828', labelFontSize: 11, titleFontSize: 12 },
  title: { color: '#101828', fontSize: 13, fontWeight: 600, anchor: 'start' },
  range: { category: { scheme: 'tableau10' } },
};

/** Size of the charts laid out two or three to a row. */
export const SMALL_CHART = { width: 250, height: 190 } as const;
