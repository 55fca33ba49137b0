/**
 * The server-side split of a point, from Nereid's statistics extension (GET /v2/models/{m}/stats):
 * cumulative counters read at window boundaries, and their differences across the windows kept.
 */
/** Per-request means (µs) of each phase on the server, and the mean batch it formed. */
export interface ServerSplit {
  readonly queueUs: number;
  readonly computeInputUs: number;
  readonly computeInferUs: number;
  readonly computeOutputUs: number;
  /** Mean batch size the server formed (inferences per execution). */
  readonly meanBatch: number;
}

interface Duration {
  readonly count: number;
  readonly ns: number;
}

/** The counters of one model (all its ready versions, or the one asked for) at one moment. */
export interface StatsSnapshot {
  readonly inferenceCount: number;
  readonly executionCount: number;
  readonly queue: Duration;
  readonly computeInput: Duration;
  readonly computeInfer: Duration;
  readonly computeOutput: Duration;
}

interface StatsReport {
  inference_count: number;
  execution_count: number;
  inference_stats: Record<'queue' | 'compute_input' | 'compute_infer' | 'compute_output', { count: number | string; ns: number | string }>;
}

const sum = (list: readonly Duration[]): Duration => ({ count: list.reduce((n, d) => n + d.count, 0), ns: list.reduce((n, d) => n + d.ns, 0) });

/** Adds up the `model_stats` entries of a statistics answer. */
export function snapshotFromReport(body: { model_stats: readonly StatsReport[] }): StatsSnapshot {
  const stats = body.model_stats;
  const durations = (key: keyof StatsReport['inference_stats']) => sum(stats.map((s) => ({ count: Number(s.inference_stats[key].count), ns: Number(s.inference_stats[key].ns) })));
  return {
    inferenceCount: stats.reduce((n, s) => n + Number(s.inference_count), 0),
    executionCount: stats.reduce((n, s) => n + Number(s.execution_count), 0),
    queue: durations('queue'),
    computeInput: durations('compute_input'),
    computeInfer: durations('compute_infer'),
    computeOutput: durations('compute_output'),
  };
}

/** Reads the model's statistics over HTTP. */
export async function fetchStats(httpUrl: string, model: string, version: string | null): Promise<StatsSnapshot> {
  const url = `${httpUrl}/v2/models/${encodeURIComponent(model)}${version === null ? '' : `/versions/${encodeURIComponent(version)}`}/stats`;
  const res = await fetch(url);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${text}`);
  return snapshotFromReport(JSON.parse(text) as { model_stats: StatsReport[] });
}

/**
 * Per-request means (µs) of each phase between two snapshots, and the mean batch the server
 * formed (inferences per execution); undefined when nothing ran in between.
 */
export function serverSplit(before: StatsSnapshot, after: StatsSnapshot): ServerSplit | undefined {
  const executions = after.executionCount - before.executionCount;
  if (executions <= 0) return undefined;
  const meanUs = (key: 'queue' | 'computeInput' | 'computeInfer' | 'computeOutput') => {
    const count = after[key].count - before[key].count;
    return count > 0 ? (after[key].ns - before[key].ns) / count / 1000 : NaN;
  };
  return {
    queueUs: meanUs('queue'),
    computeInputUs: meanUs('computeInput'),
    computeInferUs: meanUs('computeInfer'),
    computeOutputUs: meanUs('computeOutput'),
    meanBatch: (after.inferenceCount - before.inferenceCount) / executions,
  };
}
