/**
 * Nereid's perf_analyzer: `npm run bench -- [options]` (see USAGE in options.ts). Loads Nereid
 * from this process (a server given by --url, or one it starts on a repository) at each
 * protocol and load setting, optionally measures the naive server and the in-process ceiling
 * beside it, and prints a table (progress on stderr), ratios, and --json / --csv files.
 */
import { mkdirSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { measureCeiling } from './ceiling.ts';
import { measurePoint, OPEN_LOOP_SLOTS, type PointLoad, type WindowSettings } from './engine.ts';
import { buildInputSets, fetchModelInfo, resolveDims, type ModelInfo } from './inputs.ts';
import { SATURATED_CLIENT_CPU } from './measure.ts';
import { BENCH_REPO, ensureMlpRepository } from './mlp-model.ts';
import { writePlots } from './plot.ts';
import { ensureResnetRepository } from './resnet-model.ts';
import { parseBenchOptions, USAGE, type BenchOptions, type LoadProtocol } from './options.ts';
import { formatRatios, formatTable, ratios, toCsv, toJson } from './output.ts';
import { ensureBuilt, pinCpus, ROOT, startNaive, startNereidWithGrpc, type Child } from './processes.ts';
import { environment } from './report.ts';
import type { BenchProtocol, BenchSystem, ResultRow } from './rows.ts';
import { fetchStats } from './server-stats.ts';
import { openTransport } from './transports.ts';
import type { ClientTensor } from '../src/client/index.ts';

/** Where a system under load answers. */
export interface Endpoint {
  /** http://host:port */
  readonly httpUrl: string;
  /** host:port, or null where there is no gRPC. */
  readonly grpcAddress: string | null;
}

/** The model as the client sees it, and the request inputs built for it. */
export interface PreparedModel {
  readonly info: ModelInfo;
  readonly inputSets: ClientTensor[][];
}

export function windowSettings(o: BenchOptions): WindowSettings {
  return {
    intervalMs: o.measurementIntervalMs,
    warmupMs: o.warmupMs,
    stabilityPercentage: o.stabilityPercentage,
    maxTrials: o.maxTrials,
    latency: o.percentile ?? 'avg',
    distribution: o.requestDistribution,
  };
}

/** Reads the model's metadata from Nereid and builds the inputs (--input-data, --shape, --batch-size). */
export async function prepareModel(o: BenchOptions, nereid: Endpoint): Promise<PreparedModel> {
  const info = await fetchModelInfo(nereid.httpUrl, o.model, o.modelVersion);
  const inputSets = buildInputSets(info, resolveDims(info.inputs, o.shapes), o.inputData, o.batchSize);
  return { info, inputSets };
}

/**
 * One point of one system: a transport for the load, the windows until stable, and its row.
 * The server's statistics are read only for Nereid.
 */
export async function measureSystem(system: Exclude<BenchSystem, 'ceiling'>, protocol: LoadProtocol, endpoint: Endpoint, model: PreparedModel, load: PointLoad, o: BenchOptions, progress: (line: string) => void): Promise<ResultRow> {
  const slots = load.mode === 'concurrency' ? load.value : OPEN_LOOP_SLOTS;
  const transport = await openTransport(protocol, {
    httpUrl: endpoint.httpUrl,
    grpcAddress: endpoint.grpcAddress,
    model: o.model,
    version: system === 'nereid' ? o.modelVersion : null,
    outputs: model.info.outputs,
    batched: model.info.maxBatchSize > 0,
    batchSize: o.batchSize,
    outputSharedMemorySize: o.outputSharedMemorySize,
  }, model.inputSets, slots);
  const label = `${system} ${protocol} ${load.mode === 'concurrency' ? `c=${load.value}` : `rate=${load.value}/s`}`;
  try {
    const stats = system === 'nereid' ? () => fetchStats(endpoint.httpUrl, o.model, o.modelVersion) : null;
    const r = await measurePoint(transport, load, windowSettings(o), stats, (line) => progress(`${label} ${line}`));
    const f = r.figures;
    if (f.peakClientCpu >= SATURATED_CLIENT_CPU) {
      progress(`WARNING ${label}: the load process used ${(f.peakClientCpu * 100).toFixed(0)}% of a core in a window: the client may be the bottleneck`);
    }
    return {
      system,
      protocol,
      model: o.model,
      mode: load.mode,
      ...(load.mode === 'concurrency' ? { concurrency: load.value } : { requestRate: load.value }),
      ...(o.batchSize > 1 ? { batch: o.batchSize } : {}),
      throughput: f.requestRate * o.batchSize,
      p50Ms: f.p50Ms,
      p90Ms: f.p90Ms,
      p95Ms: f.p95Ms,
      p99Ms: f.p99Ms,
      requests: f.requests,
      errors: f.errors,
      stable: r.stable,
      clientCpu: f.clientCpu,
      ...(r.server ? { server: r.server } : {}),
    };
  } finally {
    await transport.close();
  }
}

/** Nereid at every protocol and load value of the options. */
export async function benchNereid(o: BenchOptions, nereid: Endpoint, progress: (line: string) => void): Promise<ResultRow[]> {
  const model = await prepareModel(o, nereid);
  const rows: ResultRow[] = [];
  for (const value of o.load.values) {
    for (const protocol of o.protocols) rows.push(await measureSystem('nereid', protocol, nereid, model, { mode: o.load.mode, value }, o, progress));
  }
  return rows;
}

/** The newest numeric version's model.onnx of `model` in `repo`. */
export function findModelFile(repo: string, model: string): string {
  const dir = path.join(repo, model);
  const versions = existsSync(dir) ? readdirSync(dir).filter((d) => /^\d+$/.test(d) && existsSync(path.join(dir, d, 'model.onnx'))).map(Number) : [];
  if (versions.length === 0) throw new Error(`no <version>/model.onnx under ${dir} for the baselines: give --model-file`);
  return path.join(dir, String(Math.max(...versions)), 'model.onnx');
}

/**
 * The in-process ceiling at the batch size Nereid formed at one concurrency (the mean batch of
 * its first protocol there, rounded, at least 1), measured once per batch size (`measured`
 * keeps them), with the dims the requests carry.
 */
async function ceilingRow(o: BenchOptions, model: PreparedModel, modelFile: string, concurrency: number, nereid: ResultRow | undefined, measured: Map<number, number>, progress: (line: string) => void): Promise<ResultRow> {
  const batched = model.info.maxBatchSize > 0;
  const inputs = model.inputSets[0].map((t) => ({ name: t.name, datatype: t.datatype, dims: t.shape.slice(batched ? 1 : 0) }));
  const formed = (nereid?.server?.meanBatch ?? 1) * o.batchSize;
  const batch = batched ? Math.max(1, Math.min(model.info.maxBatchSize, Math.round(formed))) : 1;
  if (!measured.has(batch)) {
    progress(`ceiling at batch ${batch}: ${o.measurementIntervalMs} ms of onnxruntime-node in a loop, ${o.baselineThreads} thread(s)`);
    measured.set(batch, await measureCeiling(modelFile, inputs, batch, o.baselineThreads, o.measurementIntervalMs));
  }
  const throughput = measured.get(batch)!;
  return { system: 'ceiling', protocol: 'in-process', model: o.model, mode: 'batch', concurrency, batch, throughput, p50Ms: NaN, p90Ms: NaN, p95Ms: NaN, p99Ms: NaN, requests: 0, errors: 0, stable: true };
}

/** A progress line on stderr: rewritten in place on a terminal, one line each otherwise. */
function progressLine(): { write(line: string): void; done(): void } {
  const tty = process.stderr.isTTY === true;
  let shown = false;
  return {
    write(line) {
      if (tty) {
        process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns || 120) - 1)}`);
        shown = true;
        if (line.startsWith('WARNING')) {
          process.stderr.write('\n');
          shown = false;
        }
      } else process.stderr.write(`${line}\n`);
    },
    done() {
      if (shown) process.stderr.write('\n');
      shown = false;
    },
  };
}

/** The repository a self-started server serves. */
function selfStartedRepository(o: BenchOptions): string {
  if (o.modelRepository !== null) return path.resolve(o.modelRepository);
  // Generated models share bench/models, and a server started there serves each of them.
  if (o.benchModel === 'mlp') {
    ensureMlpRepository(32);
    return BENCH_REPO;
  }
  if (o.benchModel === 'resnet') {
    ensureResnetRepository(8);
    return BENCH_REPO;
  }
  return path.join(ROOT, 'model_repository');
}

export async function main(argv: readonly string[]): Promise<void> {
  const o = parseBenchOptions(argv);
  if (o.help) {
    process.stdout.write(USAGE);
    return;
  }
  pinCpus(o.serverCpus, o.clientCpus);
  const started = performance.now();
  const progress = progressLine();
  const children: Child[] = [];
  let nereid: Endpoint;
  let modelFile: string | null = o.modelFile;
  try {
    if (o.url !== null) {
      const host = new URL(o.url).hostname;
      nereid = { httpUrl: o.url, grpcAddress: o.grpcUrl ?? `${host}:8001` };
    } else {
      ensureBuilt(); // the server runs from dist/, as `npm start` runs it
      const repo = selfStartedRepository(o);
      progress.write(`starting Nereid on ${path.relative(ROOT, repo) || repo} (client shared memory allowed)`);
      const child = await startNereidWithGrpc(repo, ['--allow-client-shm=true']);
      children.push(child);
      nereid = { httpUrl: `http://127.0.0.1:${child.ports[0]}`, grpcAddress: `127.0.0.1:${child.ports[1]}` };
      if (o.compare && modelFile === null) modelFile = findModelFile(repo, o.model);
    }
    const model = await prepareModel(o, nereid);
    const rows: ResultRow[] = [];
    let naive: Endpoint | null = null;
    if (o.compare && modelFile !== null) {
      const child = await startNaive(modelFile, o.baselineThreads);
      children.push(child);
      naive = { httpUrl: `http://127.0.0.1:${child.port}`, grpcAddress: null };
    }
    const ceilings = new Map<number, number>();
    // Each concurrency's points follow each other (Nereid, naive, ceiling), so drift in the
    // machine's load hits all three alike; the idle servers cost nothing meanwhile.
    for (const value of o.load.values) {
      const load = { mode: o.load.mode, value };
      const first = rows.length;
      for (const protocol of o.protocols) rows.push(await measureSystem('nereid', protocol, nereid, model, load, o, progress.write));
      // The naive server speaks HTTP only: binary tensors unless only JSON was asked for.
      if (naive) rows.push(await measureSystem('naive', o.protocols.every((p) => p === 'http-json') ? 'http-json' : 'http-binary', naive, model, load, o, progress.write));
      if (naive && modelFile !== null) rows.push(await ceilingRow(o, model, modelFile, value, rows[first], ceilings, progress.write));
    }
    progress.done();
    report(o, rows, (performance.now() - started) / 1000);
  } finally {
    progress.done();
    await Promise.all(children.map((c) => c.stop()));
  }
}

function report(o: BenchOptions, rows: ResultRow[], seconds: number): void {
  const windows = `${o.measurementIntervalMs} ms windows, stable when the last 3 agree within ${o.stabilityPercentage}%, at most ${o.maxTrials} windows${o.quick ? ' (--quick: short windows and few trials; a sweep with the defaults measures more carefully)' : ''}`;
  console.log(`\n${o.model} over ${o.protocols.join(', ')}, batch size ${o.batchSize}; ${windows}; server columns are means per request from Nereid's statistics\n`);
  console.log(formatTable(rows));
  const list = ratios(rows);
  if (list.length > 0) console.log(`\n${formatRatios(list)}${o.baselineThreads === 1 ? '\n(naive server and ceiling on 1 runtime thread)' : ''}`);
  const unstable = rows.filter((r) => !r.stable).length;
  if (unstable > 0) console.log(`\n${unstable} point(s) did not settle within ${o.maxTrials} windows (stable: NO); their figures are the last 3 windows'`);
  const saturated = rows.filter((r) => (r.clientCpu ?? 0) >= SATURATED_CLIENT_CPU);
  if (saturated.length > 0) console.log(`\nWARNING: the load process was near one full core at ${saturated.map((r) => `${r.system} ${r.protocol} c=${r.concurrency ?? r.requestRate}`).join('; ')}: those figures may be the client's limit, not the server's`);
  console.log(`\n${rows.length} rows in ${seconds.toFixed(0)} s`);
  const meta = { ...environment(), model: o.model, windowMs: o.measurementIntervalMs, stabilityPercentage: o.stabilityPercentage, maxTrials: o.maxTrials, seconds };
  for (const [file, text] of [[o.json, () => toJson(meta, rows, list)], [o.csv, () => toCsv(rows)]] as const) {
    if (file === null) continue;
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    writeFileSync(file, text());
    console.log(`wrote ${file}`);
  }
  if (o.plot !== null) {
    writePlots(o.plot, rows, `${o.model}: Nereid${o.compare ? ', the naive server and the in-process ceiling' : ''} (${o.protocols.join(', ')}, batch size ${o.batchSize})`);
    console.log(`wrote ${o.plot}`);
  }
}
