/**
 * The arithmetic of a measurement, kept pure so tests can check it on known inputs: percentiles
 * by nearest rank, the stability rule over measurement windows (perf_analyzer's), and the
 * figures of a point from the windows that were kept.
 */

/** The value at quantile q (0..1) of sorted numbers, by the nearest-rank method; NaN when empty. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** What one measurement window saw on the client. */
export interface Window {
  /** Answered requests (each carries `batch` inferences). */
  readonly requests: number;
  readonly errors: number;
  /** Wall time of the window, in seconds. */
  readonly seconds: number;
  /** Latency of each answered request in ms, sorted ascending. */
  readonly latenciesMs: readonly number[];
  /** CPU time (user + system) the load process spent in the window, in microseconds. */
  readonly cpuUs: number;
}

/** Which latency the stability rule compares: the mean (perf_analyzer's default) or a percentile (1..99). */
export type StabilityLatency = 'avg' | number;

export function windowThroughput(w: Window): number {
  return w.seconds > 0 ? w.requests / w.seconds : 0;
}

export function windowLatency(w: Window, which: StabilityLatency): number {
  if (w.latenciesMs.length === 0) return NaN;
  if (which === 'avg') return w.latenciesMs.reduce((a, b) => a + b, 0) / w.latenciesMs.length;
  return percentile(w.latenciesMs, which / 100);
}

/** True when every value lies within `percentage` % of the values' mean (and the mean is positive). */
export function withinPercentOfMean(values: readonly number[], percentage: number): boolean {
  if (values.some((v) => !Number.isFinite(v))) return false;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  if (!(mean > 0)) return false;
  return values.every((v) => Math.abs(v - mean) <= (percentage / 100) * mean);
}

/** How many windows the stability rule looks at, as perf_analyzer. */
export const STABLE_WINDOWS = 3;

/**
 * perf_analyzer's stability rule: the last three windows are stable when their throughputs, and
 * their latencies (mean, or the chosen percentile), each lie within `percentage` % of their mean.
 * Fewer than three windows, or a window with no answered request, are never stable.
 */
export function isStable(windows: readonly Window[], percentage: number, latency: StabilityLatency = 'avg'): boolean {
  if (windows.length < STABLE_WINDOWS) return false;
  const last = windows.slice(-STABLE_WINDOWS);
  if (last.some((w) => w.requests === 0)) return false;
  return withinPercentOfMean(last.map(windowThroughput), percentage) && withinPercentOfMean(last.map((w) => windowLatency(w, latency)), percentage);
}

/** The client-side figures of a point, from the windows kept (the last three, or all if fewer). */
export interface PointFigures {
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  /** Requests per second. */
  readonly requestRate: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly avgMs: number;
  /** CPU of the load process as a fraction of one core, over the kept windows. */
  readonly clientCpu: number;
  /** The busiest kept window's CPU, as a fraction of one core. */
  readonly peakClientCpu: number;
}

/** Merges windows: counts and times add up, percentiles come from all their latencies together. */
export function combineWindows(windows: readonly Window[]): PointFigures {
  const all = windows.flatMap((w) => w.latenciesMs).sort((a, b) => a - b);
  const requests = windows.reduce((n, w) => n + w.requests, 0);
  const seconds = windows.reduce((n, w) => n + w.seconds, 0);
  const cpuUs = windows.reduce((n, w) => n + w.cpuUs, 0);
  return {
    requests,
    errors: windows.reduce((n, w) => n + w.errors, 0),
    seconds,
    requestRate: seconds > 0 ? requests / seconds : 0,
    p50Ms: percentile(all, 0.5),
    p90Ms: percentile(all, 0.9),
    p95Ms: percentile(all, 0.95),
    p99Ms: percentile(all, 0.99),
    avgMs: all.length === 0 ? NaN : all.reduce((a, b) => a + b, 0) / all.length,
    clientCpu: seconds > 0 ? cpuUs / 1e6 / seconds : 0,
    peakClientCpu: Math.max(0, ...windows.map((w) => (w.seconds > 0 ? w.cpuUs / 1e6 / w.seconds : 0))),
  };
}

/** A load process at or above this fraction of one core is itself the bottleneck (Node runs JS on one core). */
export const SATURATED_CLIENT_CPU = 0.85;
