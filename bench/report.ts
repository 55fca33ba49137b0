/**
 * Figures out of a bench run: means over rounds, a table on stdout, one JSON line with the
 * command, the machine and the versions.
 */
import os from 'node:os';
import * as ort from 'onnxruntime-node';
import type { LoadResult } from './load.ts';
import { cpuPinning } from './processes.ts';

export interface Row {
  readonly system: string;
  readonly throughput: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
}

/** Means of each figure over rounds; errors are summed. */
export function summarize(system: string, rounds: readonly LoadResult[]): Row {
  const mean = (f: (r: LoadResult) => number) => rounds.reduce((n, r) => n + f(r), 0) / rounds.length;
  return { system, throughput: mean((r) => r.throughput), p50Ms: mean((r) => r.p50Ms), p90Ms: mean((r) => r.p90Ms), p99Ms: mean((r) => r.p99Ms), errors: rounds.reduce((n, r) => n + r.errors, 0) };
}

export function printTable(title: string, rows: readonly Row[], baseline: string): void {
  const base = rows.find((r) => r.system === baseline)?.throughput ?? NaN;
  console.log(`\n${title}\n`);
  console.log(`${'system'.padEnd(30)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p90 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'errors'.padStart(7)} ${('vs ' + baseline).padStart(14)}`);
  for (const r of rows) {
    console.log(`${r.system.padEnd(30)} ${r.throughput.toFixed(0).padStart(8)} ${r.p50Ms.toFixed(3).padStart(8)} ${r.p90Ms.toFixed(3).padStart(8)} ${r.p99Ms.toFixed(3).padStart(8)} ${String(r.errors).padStart(7)} ${(r.throughput / base).toFixed(2).padStart(13)}x`);
  }
}

export function environment(): Record<string, unknown> {
  return {
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine: { cpus: os.availableParallelism(), model: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30) },
    node: process.version,
    onnxruntime: ort.env.versions.common,
    cpus: cpuPinning(),
  };
}
