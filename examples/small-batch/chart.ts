/**
 * The small-batch chart: validation accuracy against batch size (log2 axis),
 * one line per normalization, drawn by Vega-Lite and rendered to SVG by Vega
 * in Node (no browser, no network), as examples/mnist/chart.ts.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface AccuracyPoint {
  norm: string;
  batchSize: number;
  accuracy: number;
}

export async function smallBatchChartSvg(points: readonly AccuracyPoint[], title: string): Promise<string> {
  const batchSizes = [...new Set(points.map((p) => p.batchSize))].sort((a, b) => a - b);
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    background: 'white',
    width: 420,
    height: 280,
    data: { values: points.map((p) => ({ ...p })) },
    mark: { type: 'line', point: true },
    encoding: {
      x: {
        field: 'batchSize', type: 'quantitative', title: 'batch size (log2 scale)',
        scale: { type: 'log', base: 2, domain: [batchSizes[0]!, batchSizes[batchSizes.length - 1]!] },
        axis: { values: batchSizes, format: 'd' },
      },
      y: { field: 'accuracy', type: 'quantitative', title: 'validation accuracy', scale: { domain: [0, 1] } },
      color: { field: 'norm', type: 'nominal', title: null },
    },
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  return view.toSVG();
}
