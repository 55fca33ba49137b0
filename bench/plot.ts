/**
 * Plots of benchmark rows as one self-contained SVG document (no scripts, no external fonts or
 * styles, no dependencies), two charts side by side:
 *
 *   (a) throughput against concurrency: one line with markers per system and protocol. Ceiling
 *       rows with a concurrency are a series of their own; ceiling rows without one are drawn as
 *       dashed horizontal reference lines, one per batch size.
 *   (b) latency against throughput: p50 (solid) and p99 (dashed) per system and protocol, for
 *       Nereid and the naive server (the ceiling has no latency).
 *
 * The same series has the same colour in both charts. Every line is a <polyline> carrying
 * `data-series="<name>"`, so a reader (or a test) can find it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ResultRow } from './rows.ts';

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
const CEILING_COLOR = '#555555';

// Geometry, in SVG user units (pixels).
const PANEL_WIDTH = 600;
const PLOT_LEFT = 75;
const PLOT_RIGHT = 25;
const PLOT_TOP = 75;
const PLOT_HEIGHT = 320;
const LEGEND_TOP = PLOT_TOP + PLOT_HEIGHT + 60;
const LEGEND_LINE = 18;
const LEGEND_COLUMNS = 2;

interface Point { readonly x: number; readonly y: number; readonly label: string }

interface Series {
  readonly name: string;
  readonly color: string;
  readonly dashed: boolean;
  /** For a reference line: the constant y, drawn across the whole x range. */
  readonly referenceY?: number;
  readonly points: Point[];
}

interface Chart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: Series[];
  /** Use a log2 x axis where the x values span a wide range (concurrency 1..64). */
  readonly xMayBeLog: boolean;
  readonly xIntegers: boolean;
  readonly note?: string;
}

interface Axis {
  readonly ticks: number[];
  /** Value → position in [0, 1]. */
  readonly at: (v: number) => number;
}

/** Escapes text for XML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Ticks from 0 to at least `max`, about five of them, in steps of 1, 2, 2.5 or 5 times a power of ten. */
function linearAxis(max: number, integers: boolean): Axis {
  const top = max > 0 && Number.isFinite(max) ? max : 1;
  const raw = top / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  if (integers) step = Math.max(1, Math.ceil(step));
  const count = Math.ceil(top / step - 1e-9);
  const ticks = Array.from({ length: count + 1 }, (_, i) => Number((i * step).toPrecision(12)));
  const end = ticks.at(-1)!;
  return { ticks, at: (v) => v / end };
}

/** Powers of two around [min, max] (min > 0). */
function log2Axis(min: number, max: number): Axis {
  const lo = Math.floor(Math.log2(min));
  const hi = Math.ceil(Math.log2(max));
  const ticks = Array.from({ length: hi - lo + 1 }, (_, i) => 2 ** (lo + i));
  return { ticks, at: (v) => (Math.log2(v) - lo) / (hi - lo) };
}

function formatNumber(v: number): string {
  if (Math.abs(v) >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`;
  if (Math.abs(v) >= 1e4) return `${Number((v / 1e3).toPrecision(3))}k`;
  return String(Number(v.toPrecision(4)));
}

/** The name of a row's series: system and protocol, the model where rows mix models, and the loop kind for open-loop rows. */
function seriesName(row: ResultRow, manyModels: boolean): string {
  const base = row.system === 'ceiling' ? 'ceiling in-process' : `${row.system} ${row.protocol}`;
  return `${manyModels ? `${row.model} ` : ''}${base}${row.mode === 'request-rate' ? ' (open loop)' : ''}`;
}

function throughputChart(rows: readonly ResultRow[], colorOf: (name: string) => string, manyModels: boolean): Chart {
  const byName = new Map<string, Series>();
  const add = (name: string, color: string, dashed: boolean, point: Point | null, referenceY?: number): void => {
    let s = byName.get(name);
    if (!s) byName.set(name, (s = { name, color, dashed, referenceY, points: [] }));
    if (point) s.points.push(point);
  };
  let skipped = 0;
  for (const row of rows) {
    if (!Number.isFinite(row.throughput)) continue;
    const name = seriesName(row, manyModels);
    if (row.system === 'ceiling' && row.concurrency === undefined) {
      const ref = `${name} (batch ${row.batch ?? '?'})`;
      add(ref, CEILING_COLOR, true, null, row.throughput);
      continue;
    }
    if (row.concurrency === undefined) {
      skipped++; // an open-loop row has no concurrency: it is in the latency chart only
      continue;
    }
    const batch = row.batch !== undefined ? `, batch ${row.batch}` : '';
    add(name, row.system === 'ceiling' ? CEILING_COLOR : colorOf(name), false, {
      x: row.concurrency,
      y: row.throughput,
      label: `${name}: concurrency ${row.concurrency}${batch}, ${formatNumber(row.throughput)} infer/s`,
    });
  }
  const series = [...byName.values()];
  for (const s of series) s.points.sort((a, b) => a.x - b.x);
  return {
    title: 'Throughput against concurrency',
    xLabel: 'concurrent requests',
    yLabel: 'inferences per second',
    series,
    xMayBeLog: true,
    xIntegers: true,
    note: skipped > 0 ? `${skipped} open-loop row(s) have no concurrency: see the latency chart` : undefined,
  };
}

function latencyChart(rows: readonly ResultRow[], colorOf: (name: string) => string, manyModels: boolean): Chart {
  const groups = new Map<string, ResultRow[]>();
  for (const row of rows) {
    if (row.system === 'ceiling' || !Number.isFinite(row.throughput)) continue;
    const name = seriesName(row, manyModels);
    groups.set(name, [...(groups.get(name) ?? []), row]);
  }
  const series: Series[] = [];
  for (const [name, list] of groups) {
    // Along the load: by concurrency or request rate, so a curve that bends back stays a curve.
    const load = (r: ResultRow) => r.concurrency ?? r.requestRate ?? r.throughput;
    const sorted = [...list].sort((a, b) => load(a) - load(b) || a.throughput - b.throughput);
    for (const [which, dashed] of [['p50', false], ['p99', true]] as const) {
      const key = which === 'p50' ? 'p50Ms' : 'p99Ms';
      const points = sorted
        .filter((r) => Number.isFinite(r[key]))
        .map((r) => ({
          x: r.throughput,
          y: r[key],
          label: `${name} ${which}: ${formatNumber(r[key])} ms at ${formatNumber(r.throughput)} infer/s` +
            (r.concurrency !== undefined ? ` (concurrency ${r.concurrency})` : r.requestRate !== undefined ? ` (${r.requestRate} req/s asked)` : ''),
        }));
      if (points.length > 0) series.push({ name: `${name} ${which}`, color: colorOf(name), dashed, points });
    }
  }
  return {
    title: 'Latency against throughput',
    xLabel: 'inferences per second',
    yLabel: 'latency (ms), p50 solid, p99 dashed',
    series,
    xMayBeLog: false,
    xIntegers: false,
  };
}

function legendRows(chart: Chart): number {
  return Math.ceil(chart.series.length / LEGEND_COLUMNS) + (chart.note ? 1 : 0);
}

function renderChart(chart: Chart, left: number): string {
  const x0 = left + PLOT_LEFT;
  const plotWidth = PANEL_WIDTH - PLOT_LEFT - PLOT_RIGHT;
  const y0 = PLOT_TOP;
  const out: string[] = [];
  out.push(`<g class="chart">`);
  out.push(`<text x="${left + PANEL_WIDTH / 2}" y="${PLOT_TOP - 20}" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(chart.title)}</text>`);
  out.push(`<rect x="${x0}" y="${y0}" width="${plotWidth}" height="${PLOT_HEIGHT}" fill="#ffffff" stroke="#333333"/>`);

  const xs = chart.series.flatMap((s) => s.points.map((p) => p.x));
  const ys = chart.series.flatMap((s) => [...s.points.map((p) => p.y), ...(s.referenceY !== undefined ? [s.referenceY] : [])]);
  if (ys.length === 0) {
    out.push(`<text x="${x0 + plotWidth / 2}" y="${y0 + PLOT_HEIGHT / 2}" text-anchor="middle" fill="#777777">no data</text>`);
    out.push('</g>');
    return out.join('\n');
  }
  const xMin = xs.length > 0 ? Math.min(...xs) : 0;
  const xMax = xs.length > 0 ? Math.max(...xs) : 1;
  // Linear axes get 5% headroom, so a point at a round maximum does not sit on the frame.
  const xAxis = chart.xMayBeLog && xMin > 0 && xMax / xMin >= 8 ? log2Axis(xMin, xMax) : linearAxis(xMax * 1.05, chart.xIntegers);
  const yAxis = linearAxis(Math.max(...ys) * 1.05, false);
  const px = (v: number) => +(x0 + xAxis.at(v) * plotWidth).toFixed(1);
  const py = (v: number) => +(y0 + PLOT_HEIGHT - yAxis.at(v) * PLOT_HEIGHT).toFixed(1);

  // Grid, ticks and tick labels.
  for (const t of yAxis.ticks) {
    const y = py(t);
    out.push(`<line x1="${x0}" y1="${y}" x2="${x0 + plotWidth}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(`<line x1="${x0 - 5}" y1="${y}" x2="${x0}" y2="${y}" stroke="#333333"/>`);
    out.push(`<text x="${x0 - 8}" y="${y + 4}" text-anchor="end">${formatNumber(t)}</text>`);
  }
  for (const t of xAxis.ticks) {
    const x = px(t);
    out.push(`<line x1="${x}" y1="${y0}" x2="${x}" y2="${y0 + PLOT_HEIGHT}" stroke="#e5e5e5"/>`);
    out.push(`<line x1="${x}" y1="${y0 + PLOT_HEIGHT}" x2="${x}" y2="${y0 + PLOT_HEIGHT + 5}" stroke="#333333"/>`);
    out.push(`<text x="${x}" y="${y0 + PLOT_HEIGHT + 19}" text-anchor="middle">${formatNumber(t)}</text>`);
  }
  out.push(`<text x="${x0 + plotWidth / 2}" y="${y0 + PLOT_HEIGHT + 40}" text-anchor="middle">${escapeXml(chart.xLabel)}</text>`);
  const yLabelX = left + 18;
  const yLabelY = y0 + PLOT_HEIGHT / 2;
  out.push(`<text x="${yLabelX}" y="${yLabelY}" text-anchor="middle" transform="rotate(-90 ${yLabelX} ${yLabelY})">${escapeXml(chart.yLabel)}</text>`);

  // Lines, then markers on top.
  const xFirst = px(xAxis.ticks[0]);
  const xLast = px(xAxis.ticks.at(-1)!);
  for (const s of chart.series) {
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    const points = s.referenceY !== undefined
      ? `${xFirst},${py(s.referenceY)} ${xLast},${py(s.referenceY)}`
      : s.points.map((p) => `${px(p.x)},${py(p.y)}`).join(' ');
    out.push(`<polyline data-series="${escapeXml(s.name)}" fill="none" stroke="${s.color}" stroke-width="2"${dash} points="${points}"/>`);
    if (s.referenceY !== undefined) {
      out.push(`<text x="${xLast - 4}" y="${py(s.referenceY) - 5}" text-anchor="end" fill="${s.color}">${escapeXml(s.name)}: ${formatNumber(s.referenceY)}</text>`);
    }
    for (const p of s.points) {
      out.push(`<circle cx="${px(p.x)}" cy="${py(p.y)}" r="3.5" fill="${s.color}"><title>${escapeXml(p.label)}</title></circle>`);
    }
  }

  // Legend under the plot.
  const columnWidth = (PANEL_WIDTH - PLOT_LEFT) / LEGEND_COLUMNS;
  chart.series.forEach((s, i) => {
    const lx = x0 + (i % LEGEND_COLUMNS) * columnWidth;
    const ly = LEGEND_TOP + Math.floor(i / LEGEND_COLUMNS) * LEGEND_LINE;
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="${s.color}" stroke-width="2"${dash}/>`);
    if (s.referenceY === undefined) out.push(`<circle cx="${lx + 12}" cy="${ly}" r="3.5" fill="${s.color}"/>`);
    out.push(`<text x="${lx + 30}" y="${ly + 4}">${escapeXml(s.name)}</text>`);
  });
  if (chart.note) {
    out.push(`<text x="${x0}" y="${LEGEND_TOP + (legendRows(chart) - 1) * LEGEND_LINE + 4}" fill="#777777">${escapeXml(chart.note)}</text>`);
  }
  out.push('</g>');
  return out.join('\n');
}

/** Both charts of `rows` as one SVG document. */
export function renderPlotsSvg(rows: readonly ResultRow[], title: string): string {
  const manyModels = new Set(rows.map((r) => r.model)).size > 1;
  const colors = new Map<string, string>();
  const colorOf = (name: string): string => {
    if (!colors.has(name)) colors.set(name, PALETTE[colors.size % PALETTE.length]);
    return colors.get(name)!;
  };
  const charts = [throughputChart(rows, colorOf, manyModels), latencyChart(rows, colorOf, manyModels)];
  const width = PANEL_WIDTH * charts.length;
  const height = LEGEND_TOP + Math.max(...charts.map(legendRows)) * LEGEND_LINE + 10;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="26" text-anchor="middle" font-size="18" font-weight="bold">${escapeXml(title)}</text>`,
    ...charts.map((chart, i) => renderChart(chart, i * PANEL_WIDTH)),
    '</svg>',
    '',
  ].join('\n');
}

/** Writes the plots of `rows` to `file` (an .svg), creating its folder. */
export function writePlots(file: string, rows: readonly ResultRow[], title: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, renderPlotsSvg(rows, title));
}
