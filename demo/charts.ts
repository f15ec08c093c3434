/**
 * Live line charts on uPlot (small, fast, canvas): a chart keeps its rows as
 * [x, ...series], redraws at most once per animation frame, and follows its
 * container's width.
 */
import uPlot from 'uplot';

export interface SeriesSpec {
  label: string;
  color: string;
  dash?: number[];
  /** Points only (no line), for sparse values. */
  points?: boolean;
  width?: number;
}

export interface LiveChart {
  /** Sets series values at x (x never decreases; a repeated x updates the last row). */
  set(x: number, values: Record<number, number | null>): void;
  destroy(): void;
}

export function liveChart(host: HTMLElement, opts: { title: string; xLabel: string; yLabel: string; series: SeriesSpec[]; yRange?: [number, number]; height?: number; legend?: boolean }): LiveChart {
  const n = opts.series.length;
  const columns: (number | null)[][] = Array.from({ length: n + 1 }, () => []);
  const plot = new uPlot(
    {
      title: opts.title,
      width: Math.max(200, host.clientWidth),
      height: opts.height ?? 220,
      scales: { x: { time: false }, y: opts.yRange ? { range: opts.yRange } : {} },
      axes: [{ stroke: '#444', size: 28 }, { label: opts.yLabel, stroke: '#444', size: 46, labelSize: 18 }],
      series: [
        { label: opts.xLabel },
        ...opts.series.map((s) => ({
          label: s.label, stroke: s.color, width: s.width ?? 2, dash: s.dash, spanGaps: true,
          ...(s.points ? { paths: () => null, points: { show: true, size: 9, fill: s.color } } : { points: { show: false } }),
        })),
      ],
      legend: { show: opts.legend ?? true, live: false },
      cursor: { drag: { x: false, y: false } },
    },
    columns as uPlot.AlignedData,
    host,
  );
  let queued = false;
  const redraw = (): void => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      plot.setData(columns as uPlot.AlignedData);
    });
  };
  const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(200, host.clientWidth), height: opts.height ?? 220 }));
  resize.observe(host);
  return {
    set(x, values) {
      const last = columns[0]!.length - 1;
      if (last < 0 || columns[0]![last] !== x) {
        columns.forEach((c, i) => c.push(i === 0 ? x : null));
      }
      const row = columns[0]!.length - 1;
      for (const [k, v] of Object.entries(values)) columns[Number(k) + 1]![row] = v;
      redraw();
    },
    destroy() {
      resize.disconnect();
      plot.destroy();
    },
  };
}
