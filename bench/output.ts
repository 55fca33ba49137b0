/**
 * Everything the benchmark client writes, made from ResultRows: the terminal table, the ratios
 * of Nereid to its baselines, CSV and JSON.
 */
import type { ResultRow } from './rows.ts';

const fixed = (n: number | undefined, digits: number) => (n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits));

/** The load column: c=8, rate=100/s, or the ceiling's batch. */
export function loadLabel(r: ResultRow): string {
  if (r.mode === 'batch') return `batch ${r.batch}${r.concurrency !== undefined ? ` (c=${r.concurrency})` : ''}`;
  if (r.mode === 'request-rate') return `rate=${r.requestRate}/s`;
  return `c=${r.concurrency}`;
}

const COLUMNS: [string, number, (r: ResultRow) => string][] = [
  ['system', 8, (r) => r.system],
  ['protocol', 11, (r) => r.protocol],
  ['load', 16, loadLabel],
  ['infer/s', 9, (r) => fixed(r.throughput, 1)],
  ['p50 ms', 8, (r) => fixed(r.p50Ms, 2)],
  ['p90 ms', 8, (r) => fixed(r.p90Ms, 2)],
  ['p95 ms', 8, (r) => fixed(r.p95Ms, 2)],
  ['p99 ms', 8, (r) => fixed(r.p99Ms, 2)],
  ['queue µs', 9, (r) => fixed(r.server?.queueUs, 0)],
  ['in µs', 7, (r) => fixed(r.server?.computeInputUs, 0)],
  ['infer µs', 9, (r) => fixed(r.server?.computeInferUs, 0)],
  ['out µs', 7, (r) => fixed(r.server?.computeOutputUs, 0)],
  ['batch', 6, (r) => (r.server ? fixed(r.server.meanBatch, 2) : r.batch !== undefined ? String(r.batch) : '-')],
  ['requests', 9, (r) => String(r.requests)],
  ['errors', 7, (r) => String(r.errors)],
  ['cpu', 5, (r) => (r.clientCpu === undefined ? '-' : `${(r.clientCpu * 100).toFixed(0)}%`)],
  ['stable', 6, (r) => (r.stable ? 'yes' : 'NO')],
];

/** A fixed-width table, one line per row; server columns are per request, from the statistics extension. */
export function formatTable(rows: readonly ResultRow[]): string {
  const line = (cells: string[]) => cells.map((c, i) => (i < 3 ? c.padEnd(COLUMNS[i][1]) : c.padStart(COLUMNS[i][1]))).join(' ');
  return [line(COLUMNS.map(([h]) => h)), ...rows.map((r) => line(COLUMNS.map(([, , f]) => f(r))))].join('\n');
}

export interface Ratio {
  readonly protocol: string;
  readonly concurrency: number;
  readonly toNaive?: number;
  readonly toCeiling?: number;
  /** The batch size the ceiling ran at (Nereid's mean batch at this concurrency, rounded). */
  readonly ceilingBatch?: number;
}

/** Nereid's throughput over the naive server's and the ceiling's, per protocol and concurrency. */
export function ratios(rows: readonly ResultRow[]): Ratio[] {
  const out: Ratio[] = [];
  for (const r of rows) {
    if (r.system !== 'nereid' || r.concurrency === undefined) continue;
    const naive = rows.find((n) => n.system === 'naive' && n.concurrency === r.concurrency);
    const ceiling = rows.find((n) => n.system === 'ceiling' && n.concurrency === r.concurrency);
    if (!naive && !ceiling) continue;
    out.push({
      protocol: r.protocol,
      concurrency: r.concurrency,
      ...(naive ? { toNaive: r.throughput / naive.throughput } : {}),
      ...(ceiling ? { toCeiling: r.throughput / ceiling.throughput, ceilingBatch: ceiling.batch } : {}),
    });
  }
  return out;
}

export function formatRatios(list: readonly Ratio[]): string {
  return list.map((q) => `c=${String(q.concurrency).padEnd(4)} ${q.protocol.padEnd(11)} nereid/naive ${fixed(q.toNaive, 2).padStart(6)}x   nereid/ceiling ${fixed(q.toCeiling, 2).padStart(5)}${q.ceilingBatch !== undefined ? ` (ceiling at batch ${q.ceilingBatch})` : ''}`).join('\n');
}

const CSV_COLUMNS = ['system', 'protocol', 'model', 'mode', 'concurrency', 'requestRate', 'batch', 'throughput', 'p50Ms', 'p90Ms', 'p95Ms', 'p99Ms', 'requests', 'errors', 'stable', 'clientCpu', 'queueUs', 'computeInputUs', 'computeInferUs', 'computeOutputUs', 'meanBatch'] as const;

/** One header line and one line per row; empty cells where a figure does not apply. */
export function toCsv(rows: readonly ResultRow[]): string {
  const cell = (v: unknown) => (v === undefined || (typeof v === 'number' && !Number.isFinite(v)) ? '' : String(v));
  const lines = rows.map((r) => CSV_COLUMNS.map((c) => {
    const fromServer = r.server && c in r.server ? (r.server as unknown as Record<string, unknown>)[c] : undefined;
    return cell(fromServer ?? (r as unknown as Record<string, unknown>)[c]);
  }).join(','));
  return `${CSV_COLUMNS.join(',')}\n${lines.join('\n')}\n`;
}

/** Rows as JSON, with NaN (no latency for the ceiling) written as null. */
export function toJson(meta: Record<string, unknown>, rows: readonly ResultRow[], ratioList: readonly Ratio[]): string {
  return `${JSON.stringify({ ...meta, rows, ratios: ratioList }, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`;
}
