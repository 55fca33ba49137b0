/**
 * A tuning run: the default configuration first, then the candidates of the quick climb (or the
 * full sweep), each on a fresh server, measured at every concurrency with the engine and its
 * stability rule; every result goes into the state file as it comes, so an interrupted run
 * continues where it stopped.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { measurePoint, type WindowSettings } from './engine.ts';
import { httpTransport, inferenceBody, type TensorMeta } from './http-load.ts';
import { candidateConfig } from './config-writer.ts';
import { fetchStats } from './server-stats.ts';
import { candidateRepository, startServerProcess } from './server-process.ts';
import { allCandidates, candidateKey, nextClimbStep, searchSpace, snapToSpace, type Candidate, type Scored, type SearchSpace } from './space.ts';
import { loadState, saveResult, type TuneState } from './state.ts';

export interface TuneOptions {
  readonly modelRepository: string;
  readonly model: string;
  readonly out: string;
  /** p99 budget in ms; null: none (the highest throughput wins). */
  readonly latencyBudgetMs: number | null;
  readonly quick: boolean;
  /** Client concurrencies each candidate is measured at. */
  readonly concurrencies: readonly number[];
  readonly gpus: readonly number[];
  /** Candidates measured at most, the default included. */
  readonly maxCandidates: number;
  /** The climb stops when a step gains less than this fraction. */
  readonly minGain: number;
  readonly windows: WindowSettings;
  /** CPU cores the space's thread counts stay within. */
  readonly cores: number;
  readonly maxBatchSizeLimit: number;
  readonly maxInstances: number;
}

/** One concurrency's figures for one candidate. */
export interface PointOutcome {
  readonly concurrency: number;
  /** Inferences per second (each request carries one). */
  readonly throughput: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly stable: boolean;
  readonly trials: number;
  /** Mean batch the server formed (its statistics), over the windows kept. */
  readonly meanBatch: number | null;
  /** Server CPU time per inference (ms), over the whole point, warm-up included. */
  readonly cpuMsPerInference: number | null;
}

export interface CandidateResult {
  readonly key: string;
  /** null for the default (the model's own config, as written). */
  readonly candidate: Candidate | null;
  readonly config: string;
  readonly points: readonly PointOutcome[];
  /** The point that represents the candidate: the highest throughput within the budget, else the lowest p99. */
  readonly chosen: number | null;
  /** Why the candidate has no figures (its server did not start, every request failed...). */
  readonly error?: string;
  readonly seconds: number;
  /** The default's config as the server completed it (GET .../config): where the climb starts. */
  readonly serverConfig?: Record<string, unknown>;
}

export const DEFAULT_KEY = 'default';

/** The candidate's representative point (see CandidateResult.chosen). */
export function choosePoint(points: readonly PointOutcome[], budgetMs: number | null): number | null {
  const usable = points.map((p, i) => ({ p, i })).filter(({ p }) => p.throughput > 0 && Number.isFinite(p.p99Ms) && p.errors === 0);
  if (usable.length === 0) return null;
  const fits = usable.filter(({ p }) => budgetMs === null || p.p99Ms <= budgetMs);
  if (fits.length > 0) return fits.reduce((a, b) => (b.p.throughput > a.p.throughput ? b : a)).i;
  return usable.reduce((a, b) => (b.p.p99Ms < a.p.p99Ms ? b : a)).i;
}

/** The climb's score of a result (see space.ts's Scored). */
export function scoreOf(r: CandidateResult, budgetMs: number | null): number {
  if (r.chosen === null) return -Infinity;
  const p = r.points[r.chosen];
  return budgetMs === null || p.p99Ms <= budgetMs ? p.throughput : -p.p99Ms;
}

/** The candidate a server's config (its JSON form, GET /v2/models/{m}/config) amounts to. */
export function candidateFromConfig(config: Record<string, any>, cores: number): Candidate {
  const group = (config.instance_group ?? [])[0] ?? {};
  const gpus = (group.gpus ?? []).map(Number);
  const instances = Math.max(1, Number(group.count ?? 1));
  const db = config.dynamic_batching;
  const param = (key: string) => {
    const v = config.parameters?.[key]?.string_value;
    return v === undefined || v === '' ? null : Number(v);
  };
  return {
    device: group.kind === 'KIND_GPU' ? { kind: 'KIND_GPU', gpus: gpus.slice(0, 1) } : { kind: 'KIND_CPU', gpus: [] },
    instances,
    maxBatchSize: Number(config.max_batch_size ?? 0),
    batching: db ? Number(db.max_queue_delay_microseconds ?? 0) : 'off',
    preferred: Boolean(db && (db.preferred_batch_size ?? []).length > 0),
    intraOpThreads: param('intra_op_thread_count') ?? Math.max(1, Math.floor(cores / instances)),
    interOpThreads: param('inter_op_thread_count') ?? 1,
  };
}

/** Measures one configuration on a fresh server. */
async function measureConfig(opts: TuneOptions, modelDir: string, key: string, candidate: Candidate | null, config: string | null, log: (line: string) => void): Promise<{ result: CandidateResult; serverConfig: Record<string, any> | null }> {
  const started = performance.now();
  const repo = candidateRepository(modelDir, opts.model, config);
  const shownConfig = config ?? (existsSync(path.join(modelDir, 'config.pbtxt')) ? readFileSync(path.join(modelDir, 'config.pbtxt'), 'utf8') : '');
  const fail = (error: string) => ({ result: { key, candidate, config: shownConfig, points: [], chosen: null, error, seconds: (performance.now() - started) / 1000 }, serverConfig: null });
  let server;
  try {
    server = await startServerProcess(repo.dir, opts.model);
  } catch (err) {
    repo.remove();
    return fail((err as Error).message);
  }
  try {
    const base = `${server.httpUrl}/v2/models/${encodeURIComponent(opts.model)}`;
    const [metadata, serverConfig] = await Promise.all([fetch(base).then((r) => r.json()), fetch(`${base}/config`).then((r) => r.json())]) as [Record<string, any>, Record<string, any>];
    const batches = Number(serverConfig.max_batch_size ?? 0) > 0;
    const request = inferenceBody((metadata.inputs as TensorMeta[]).map((t) => ({ ...t, shape: t.shape.map(Number) })), (metadata.outputs as { name: string }[]).map((o) => o.name), batches);
    const points: PointOutcome[] = [];
    for (const concurrency of opts.concurrencies) {
      const transport = httpTransport(server.httpUrl, opts.model, request, concurrency);
      const before = await fetchStats(server.httpUrl, opts.model, null).catch(() => null);
      const cpuBefore = server.cpuSeconds();
      try {
        const r = await measurePoint(transport, { mode: 'concurrency', value: concurrency }, opts.windows, () => fetchStats(server!.httpUrl, opts.model, null), (line) => log(`    ${line}`));
        const after = await fetchStats(server.httpUrl, opts.model, null).catch(() => null);
        const cpu = server.cpuSeconds() - cpuBefore;
        const inferences = before && after ? after.inferenceCount - before.inferenceCount : 0;
        points.push({
          concurrency,
          throughput: r.figures.requestRate,
          p50Ms: r.figures.p50Ms,
          p99Ms: r.figures.p99Ms,
          errors: r.figures.errors,
          stable: r.stable,
          trials: r.trials,
          meanBatch: r.server?.meanBatch ?? null,
          cpuMsPerInference: inferences > 0 && Number.isFinite(cpu) ? (cpu * 1000) / inferences : null,
        });
      } finally {
        transport.close();
      }
    }
    const chosen = choosePoint(points, opts.latencyBudgetMs);
    const error = chosen === null ? 'no concurrency answered without errors' : undefined;
    return { result: { key, candidate, config: shownConfig, points, chosen, ...(error ? { error } : {}), seconds: (performance.now() - started) / 1000, ...(candidate === null ? { serverConfig } : {}) }, serverConfig };
  } finally {
    await server.stop();
    repo.remove();
  }
}

export interface TuneRun {
  readonly options: TuneOptions;
  readonly results: readonly CandidateResult[];
  readonly space: SearchSpace | null;
  readonly resumed: number;
  readonly wallSeconds: number;
}

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

function describeResult(r: CandidateResult): string {
  if (r.chosen === null) return `failed: ${(r.error ?? '').split('\n')[0]}`;
  const p = r.points[r.chosen];
  return `${fmt(p.throughput)} infer/s, p99 ${fmt(p.p99Ms, 2)} ms at ${p.concurrency} clients${p.stable ? '' : ' (unstable)'}`;
}

/** Runs the search; every line of progress goes to `log`. */
export async function runTune(opts: TuneOptions, log: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Promise<TuneRun> {
  const t0 = performance.now();
  const modelDir = path.join(opts.modelRepository, opts.model);
  if (!existsSync(modelDir)) throw new Error(`no model '${opts.model}' in ${opts.modelRepository}`);
  mkdirSync(opts.out, { recursive: true });
  const stateFile = path.join(opts.out, 'state.json');
  const settings = JSON.stringify({ model: opts.model, repo: path.resolve(opts.modelRepository), budget: opts.latencyBudgetMs, concurrencies: opts.concurrencies, windows: opts.windows, quick: opts.quick, gpus: opts.gpus, cores: opts.cores, mbs: opts.maxBatchSizeLimit, instances: opts.maxInstances, minGain: opts.minGain });
  const loaded = loadState<CandidateResult>(stateFile, settings);
  let state: TuneState<CandidateResult> = loaded.state;
  const resumed = Object.keys(state.results).length;
  if (loaded.resumed) log(`resuming from ${stateFile}: ${resumed} configuration(s) already measured`);
  const original = existsSync(path.join(modelDir, 'config.pbtxt')) ? readFileSync(path.join(modelDir, 'config.pbtxt'), 'utf8') : '';
  let best: CandidateResult | null = null;
  let count = 0;
  const total = () => (opts.quick ? `≤${opts.maxCandidates}` : String(opts.maxCandidates));
  const measure = async (key: string, candidate: Candidate | null, config: string | null): Promise<CandidateResult> => {
    count++;
    const done = state.results[key];
    if (done) {
      log(`[${count}/${total()}] ${key}: measured before, ${describeResult(done)}`);
    } else {
      log(`[${count}/${total()}] ${key}: starting a server, ${opts.concurrencies.length} concurrency level(s)`);
    }
    const measured = done ?? (await measureConfig(opts, modelDir, key, candidate, config, log)).result;
    if (!done) state = saveResult(stateFile, state, key, measured);
    if (!best || scoreOf(measured, opts.latencyBudgetMs) > scoreOf(best, opts.latencyBudgetMs)) best = measured;
    const elapsed = (performance.now() - t0) / 1000;
    if (!done) log(`  ${describeResult(measured)} (${fmt(measured.seconds)} s); best so far ${best.key}: ${describeResult(best)}; ${fmt(elapsed, 0)} s elapsed`);
    return measured;
  };

  // The default, measured in every run: the ratio in the report compares against it.
  const defaultResult = await measure(DEFAULT_KEY, null, null);
  // The default's place on the grid comes from the config the server made of it (completed from the model file).
  const defaultConfig = (defaultResult.serverConfig ?? null) as Record<string, any> | null;
  if (defaultConfig === null) throw new Error(`the default configuration of '${opts.model}' did not load: ${defaultResult.error}`);
  const space = searchSpace({ cores: opts.cores, gpus: opts.gpus, batches: Number(defaultConfig.max_batch_size ?? 0) > 0, maxBatchSizeLimit: opts.maxBatchSizeLimit, maxInstances: opts.maxInstances });
  const results: CandidateResult[] = [defaultResult];
  const run = async (c: Candidate) => {
    const r = await measure(candidateKey(c), c, candidateConfig(original, c));
    results.push(r);
    return r;
  };
  if (opts.quick) {
    const start = snapToSpace(candidateFromConfig(defaultConfig, opts.cores), space);
    let current = start;
    const scored: Scored[] = [];
    // The default counts against the budget of candidates: it was measured.
    const settingsForClimb = { minGain: opts.minGain, maxCandidates: opts.maxCandidates - 1 };
    for (;;) {
      const step = nextClimbStep(start, current, scored, space, opts.cores, settingsForClimb);
      if (step.current !== current) log(`  climbing to ${candidateKey(step.current)}`);
      current = step.current;
      if (step.next.length === 0) break;
      for (const c of step.next) {
        const r = await run(c);
        scored.push({ candidate: c, score: scoreOf(r, opts.latencyBudgetMs) });
      }
    }
    log(scored.length >= settingsForClimb.maxCandidates ? `stopped: the budget of ${opts.maxCandidates} configurations is spent` : `stopped: no step gained ${fmt(opts.minGain * 100, 0)} % or more`);
  } else {
    const all = allCandidates(space, opts.cores);
    if (all.length + 1 > opts.maxCandidates) log(`the full sweep has ${all.length} candidates; measuring the first ${opts.maxCandidates - 1} (--max-candidates)`);
    for (const c of all.slice(0, opts.maxCandidates - 1)) await run(c);
  }
  return { options: opts, results, space, resumed, wallSeconds: (performance.now() - t0) / 1000 };
}

/** This machine's cores, for the thread counts the space tries. */
export function machineCores(): number {
  return os.availableParallelism();
}
