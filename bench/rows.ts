/**
 * One measured point of the benchmark client: a system (Nereid, the naive server or the
 * in-process ceiling) under one load setting. Every output (table, --json, --csv, plots) is
 * made from these rows.
 */

/** What was measured: Nereid, the naive one-request-per-call server, or onnxruntime in a loop. */
export type BenchSystem = 'nereid' | 'naive' | 'ceiling';

/** How requests reached the system; the ceiling has no wire. */
export type BenchProtocol = 'http-json' | 'http-binary' | 'grpc' | 'shm' | 'in-process';

/** Latency and throughput of one system at one load setting. */
export interface ResultRow {
  readonly system: BenchSystem;
  readonly protocol: BenchProtocol;
  readonly model: string;
  /** Closed loop at a concurrency, open loop at a request rate, or the ceiling at a batch size. */
  readonly mode: 'concurrency' | 'request-rate' | 'batch';
  /** Clients in the closed loop (also set on ceiling rows compared with a concurrency). */
  readonly concurrency?: number;
  /** Requests per second asked for in the open loop. */
  readonly requestRate?: number;
  /** Batch size of a ceiling row. */
  readonly batch?: number;
  /** Inferences per second: requests per second times the request's batch size (batch items per second for the ceiling). */
  readonly throughput: number;
  /** Client-side latency in milliseconds; NaN where there is none (the ceiling). */
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  /** Answered requests in the windows that were kept, and failed ones. */
  readonly requests: number;
  readonly errors: number;
  /** Whether the last three windows agreed within the stability percentage. */
  readonly stable: boolean;
  /** The load process's CPU use, as a fraction of one core (1 = one core busy). */
  readonly clientCpu?: number;
  /** Server-side split per request from the statistics extension, in microseconds (Nereid only). */
  readonly server?: ServerSplit;
}

export type { ServerSplit } from '../src/tune/server-stats.ts';
import type { ServerSplit } from '../src/tune/server-stats.ts';
