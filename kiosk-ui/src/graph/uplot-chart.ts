// The chart itself: uPlot, in its own chunk (imported the first time a graph comes into view, as
// the terminal is), so a page's first load stays small. shared/graph.tsx is the component around it.
import uPlot from 'uplot';
import type { Columns } from '../shared/graph-data.js';
import { shortNumber } from '../shared/graph-data.js';

export interface ChartHandle {
  update(data: Columns, from: number, to: number): void;
  resize(width: number): void;
  destroy(): void;
}

/** Received: solid blue; sent: dashed amber (told apart without colour too). */
export const RX_COLOR = '#0a58a8';
export const TX_COLOR = '#a44a00';

/** A lone point draws no line: a new host's first point (or two) is shown as dots. */
const fewPoints = (u: uPlot) => u.data[0].length <= 2;

export function createChart(el: HTMLElement, data: Columns, o: { width: number; height: number; from: number; to: number; unit: string }): ChartHandle {
  let win = { from: o.from, to: o.to };
  const axis = { stroke: '#4d5866', grid: { stroke: '#e3e8ef', width: 1 }, ticks: { stroke: '#d5dbe3', width: 1 }, font: '11px system-ui, sans-serif' };
  const plot = new uPlot({
    width: o.width, height: o.height,
    legend: { show: false },
    cursor: { show: true, drag: { x: false, y: false }, points: { show: false } },
    select: { show: false, left: 0, top: 0, width: 0, height: 0 },
    scales: {
      x: { time: true, range: () => [win.from, win.to] },
      y: { range: (_u, _min, max) => [0, Math.max(1, (max ?? 0) * 1.15)] },
    },
    series: [
      {},
      { label: 'received', stroke: RX_COLOR, width: 2, fill: 'rgba(10, 88, 168, 0.08)', points: { show: fewPoints } },
      { label: 'sent', stroke: TX_COLOR, width: 2, dash: [6, 4], points: { show: fewPoints } },
    ],
    axes: [
      { ...axis, space: 70 },
      { ...axis, size: 44, values: (_u, vals) => vals.map((v) => shortNumber(v)), label: o.unit, labelSize: 14, labelFont: '11px system-ui, sans-serif' },
    ],
  }, data as uPlot.AlignedData, el);
  return {
    update(d, from, to) { win = { from, to }; plot.setData(d as uPlot.AlignedData); },
    resize(width) { if (width > 0 && Math.abs(width - plot.width) > 1) plot.setSize({ width, height: o.height }); },
    destroy() { plot.destroy(); },
  };
}
