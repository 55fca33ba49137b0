/**
 * Loads one model from its directory: read config.pbtxt → auto-complete from the ONNX file →
 * normalize and validate → pick versions by policy → start each version's instances.
 * A failure is kept as the model's (or version's) state and reason; it never throws out.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { readModelIo } from '../model-config/index.ts';
import { ServerError } from '../errors.ts';
import { autocompleteConfig, checkEnsemble, initialStateFiles, type ModelIo } from '../model-config/index.ts';
import type { ModelConfig, RawConfig } from '../model-config/index.ts';
import { modelConfigType } from '../model-config/index.ts';
import { normalizeConfig } from '../model-config/index.ts';
import { parsePbtxt } from '../model-config/index.ts';
import { fileExists, listVersions, missingModelFile } from './model-repository.ts';
import { ModelStatistics, type LatencyObserver } from '../observability/index.ts';
import { createScheduler, warmUp, type ModelResolver, type ResponseCache, type Scheduler, type WarmupReport } from '../scheduler/index.ts';
import type { TraceSampler } from '../observability/index.ts';
import type { ModelCaller, WorkerLogSetup } from '../instance/index.ts';

type VersionState = 'LOADING' | 'READY' | 'UNLOADING' | 'UNAVAILABLE';

export interface ModelVersion {
  readonly version: number;
  state: VersionState;
  reason: string;
  scheduler: Scheduler | null;
  readonly stats: ModelStatistics;
  /** The model_warmup run before the version became READY (absent: the config has none). */
  warmup?: WarmupReport;
}

export interface LoadedModel {
  readonly name: string;
  readonly dir: string;
  /** True once the model was unloaded (explicit unload, or removed in poll mode): not counted by readiness. */
  readonly unloaded?: boolean;
  /** Null when the config could not be read or completed; `reason` says why. */
  readonly config: ModelConfig | null;
  readonly reason: string;
  readonly versions: ReadonlyMap<number, ModelVersion>;
}

export interface LoadOptions {
  /** Fill the config from the model file (off with --disable-auto-complete-config or --strict-model-config). */
  readonly autocomplete: boolean;
  /** Require config.pbtxt (--strict-model-config=true). */
  readonly requireConfigFile: boolean;
  readonly gpus: readonly number[];
  /** Whether onnxruntime's CUDA execution provider is loadable (KIND_AUTO takes a GPU only then). */
  readonly cudaProvider?: boolean;
  /** --backend-config: auto-complete's max_batch_size, and thread counts where a config sets none. */
  readonly defaultMaxBatchSize?: number | null;
  readonly defaultIntraOpThreads?: number | null;
  readonly defaultInterOpThreads?: number | null;
}

/** What each version reports to beyond its statistics: the tracer, and latency summaries when configured. */
export interface VersionHooks {
  readonly tracer: TraceSampler | null;
  latencyObserver(model: string, version: number): LatencyObserver | null;
  /** Where the versions' workers log (absent: nowhere). */
  readonly workerLog?: WorkerLogSetup | null;
  /** The server's response cache, for versions whose config enables it; null without --cache-config. */
  readonly responseCache?: ResponseCache | null;
  /** Runs a JavaScript model's calls to other models (absent: none can be made). */
  readonly caller?: ModelCaller;
  /** The server's ready model versions, by name, for an ensemble's steps (absent: no ensemble can run). */
  readonly models?: ModelResolver;
}

const NO_HOOKS: VersionHooks = { tracer: null, latencyObserver: () => null };

/** A model whose config has been read and checked, and whose versions are chosen: nothing runs yet. */
export interface PreparedModel {
  readonly name: string;
  readonly dir: string;
  readonly config: ModelConfig | null;
  readonly reason: string;
  readonly selected: readonly number[];
}

/**
 * Reads, completes and checks a model's config and picks its versions; never throws. `override`
 * (a load request's `parameters.config`) takes the place of config.pbtxt, as in Triton.
 */
export async function prepareModel(name: string, dir: string, options: LoadOptions, override?: RawConfig): Promise<PreparedModel> {
  try {
    const { config, selected } = await readConfig(name, dir, options, override);
    return { name, dir, config, reason: '', selected };
  } catch (err) {
    return { name, dir, config: null, reason: messageOf(err), selected: [] };
  }
}

/**
 * Checks each ensemble against the configs of the models its steps name (checkEnsemble), and
 * that no ensemble reaches itself through nested ensembles; an ensemble that fails keeps no
 * config and the reason, which names the step. Triton checks an ensemble when it loads it, as
 * this does before any model starts.
 */
export function checkEnsembles(prepared: readonly PreparedModel[]): PreparedModel[] {
  const byName = new Map(prepared.map((p) => [p.name, p]));
  const lookup = (name: string): ModelConfig | string => {
    const model = byName.get(name);
    if (!model) return `model '${name}' is not in the model repository`;
    return model.config ?? `model '${name}' failed to load: ${model.reason}`;
  };
  const reaches = (from: string, target: string, seen: Set<string>): boolean => {
    for (const step of byName.get(from)?.config?.ensemble?.steps ?? []) {
      if (step.modelName === target) return true;
      if (!seen.has(step.modelName)) {
        seen.add(step.modelName);
        if (reaches(step.modelName, target, seen)) return true;
      }
    }
    return false;
  };
  return prepared.map((p) => {
    const ensemble = p.config?.ensemble;
    if (!p.config || !ensemble) return p;
    try {
      checkEnsemble(p.config, ensemble, lookup);
      const looping = ensemble.steps.findIndex((s) => byName.get(s.modelName)?.config?.ensemble && reaches(s.modelName, p.name, new Set()));
      if (looping !== -1) {
        throw new Error(`ensemble '${p.name}': step ${looping} (model '${ensemble.steps[looping].modelName}') leads back to '${p.name}' through nested ensembles`);
      }
      return p;
    } catch (err) {
      return { ...p, config: null, reason: messageOf(err), selected: [] };
    }
  });
}

/** Instances the model will start: every version, group and device. */
export function instanceCount(model: PreparedModel): number {
  if (!model.config) return 0;
  const perVersion = model.config.instanceGroups.reduce((n, g) => n + g.count * Math.max(1, g.gpus.length), 0);
  return perVersion * model.selected.length;
}

/**
 * Starts each selected version's instances. `threadsPerInstance` is the runtime's intra-op
 * thread count where the config does not set one. The result says, per version, whether it
 * is READY or why it is not.
 */
export async function startModel(model: PreparedModel, threadsPerInstance: number, hooks: VersionHooks = NO_HOOKS): Promise<LoadedModel> {
  const { name, dir, config } = model;
  if (!config) return { name, dir, config: null, reason: model.reason, versions: new Map() };
  const started = await Promise.all(model.selected.map((version) => startVersion(name, dir, config, version, threadsPerInstance, hooks)));
  const sorted = new Map(started.sort((a, b) => a.version - b.version).map((v) => [v.version, v]));
  return { name, dir, config, reason: '', versions: sorted };
}

/** Starts one version's instances and scheduler: READY, or UNAVAILABLE with the reason. Never throws. */
export async function startVersion(name: string, dir: string, config: ModelConfig, version: number, threadsPerInstance: number, hooks: VersionHooks = NO_HOOKS): Promise<ModelVersion> {
  const entry: ModelVersion = { version, state: 'LOADING', reason: '', scheduler: null, stats: new ModelStatistics(hooks.latencyObserver(name, version)) };
  const file = path.join(dir, String(version), config.defaultModelFilename);
  if (!config.ensemble && !(await fileExists(file))) {
    entry.state = 'UNAVAILABLE';
    entry.reason = await missingModelFile(dir, version, config.defaultModelFilename);
    return entry;
  }
  try {
    entry.scheduler = await createScheduler({ config, version, modelPath: file, intraOpThreads: config.intraOpThreads ?? threadsPerInstance, stats: entry.stats, tracer: hooks.tracer, log: hooks.workerLog, responseCache: hooks.responseCache ?? null, caller: config.backend === 'javascript' ? hooks.caller : undefined, models: hooks.models });
  } catch (err) {
    entry.state = 'UNAVAILABLE';
    entry.reason = `failed to load version ${version}: ${messageOf(err)}`;
    return entry;
  }
  if ((config.raw.model_warmup ?? []).length > 0) {
    // Before READY: no client request reaches the version until its warmup is done.
    entry.stats.muted = true;
    try {
      const instances = config.instanceGroups.reduce((n, g) => n + g.count * Math.max(1, g.gpus.length), 0);
      entry.warmup = await warmUp(entry.scheduler, config, dir, instances);
    } catch (err) {
      await entry.scheduler.stop().catch(() => undefined);
      entry.scheduler = null;
      entry.state = 'UNAVAILABLE';
      entry.reason = `failed to load version ${version}: ${messageOf(err)}`;
      return entry;
    } finally {
      entry.stats.muted = false;
    }
  }
  entry.state = 'READY';
  return entry;
}

async function readConfig(name: string, dir: string, options: LoadOptions, override?: RawConfig): Promise<{ config: ModelConfig; selected: number[] }> {
  const configFile = path.join(dir, 'config.pbtxt');
  let raw: RawConfig = {};
  if (override) {
    raw = override;
  } else if (await fileExists(configFile)) {
    raw = parsePbtxt(await readFile(configFile, 'utf8'), modelConfigType(), configFile);
  } else if (options.requireConfigFile) {
    throw new Error(`${configFile} is missing, and --strict-model-config=true requires one`);
  }
  const filename = raw.default_model_filename || defaultModelFilename(raw);
  const all = await listVersions(dir);
  const present: number[] = [];
  for (const v of all) {
    // An ensemble's version folders hold nothing: its steps are other models.
    if (isEnsemble(raw) || await fileExists(path.join(dir, String(v), filename))) present.push(v);
  }
  if (all.length === 0 && isEnsemble(raw)) throw new Error(`no version folders (numeric sub-directories, empty for an ensemble) in ${dir}`);
  if (all.length === 0) throw new Error(`no version folders (numeric sub-directories holding ${filename}) in ${dir}`);
  if (present.length === 0) throw new Error(await missingModelFile(dir, all.at(-1)!, filename));

  // Auto-complete from the newest version that has a model file (Triton reads one version too);
  // only an ONNX file can be read (a JavaScript model declares its io in config.pbtxt).
  let io: { inputs: ModelIo[]; outputs: ModelIo[] } | null = null;
  const newest = present.at(-1);
  if (newest !== undefined && !isCodeBackend(raw) && !isEnsemble(raw)) {
    const file = path.join(dir, String(newest), filename);
    try {
      io = readModelIo(await readFile(file));
    } catch (err) {
      throw new Error(`cannot read ${file}: ${messageOf(err)}`);
    }
  }
  const completed = options.autocomplete && io ? autocompleteConfig(raw, io, name, options.defaultMaxBatchSize ?? undefined) : { ...raw, name: raw.name ?? name };
  const config = normalizeConfig(completed, {
    modelName: name,
    gpus: options.gpus,
    cudaProvider: options.cudaProvider ?? false,
    defaultIntraOpThreads: options.defaultIntraOpThreads ?? null,
    defaultInterOpThreads: options.defaultInterOpThreads ?? null,
    io,
    labels: await readLabels(dir, completed.output ?? []),
    initialStates: await readInitialStates(dir, initialStateFiles(completed)),
  });
  const policy = config.versionPolicy;
  const selected = policy.kind === 'all' ? all
    : policy.kind === 'latest' ? present.slice(-policy.numVersions)
      : [...policy.versions];
  if (selected.length === 0) throw new Error(`no version of the model has '${filename}' under version_policy`);
  return { config, selected };
}

/** Whether the model is an ensemble of other models (platform "ensemble"). */
function isEnsemble(raw: RawConfig): boolean {
  return raw.platform === 'ensemble';
}

/** Whether the model is code that Nereid runs (backend "javascript"), rather than an ONNX file. */
function isCodeBackend(raw: RawConfig): boolean {
  return raw.backend === 'javascript';
}

/** The model file a version holds when default_model_filename does not say: model.js for JavaScript. */
function defaultModelFilename(raw: RawConfig): string {
  return isCodeBackend(raw) ? 'model.js' : 'model.onnx';
}

/**
 * The class labels of each output that names a label_filename: one label per line of that file
 * in the model's directory, as Triton reads it. A path that leaves the directory, or a file that
 * cannot be read, fails the load.
 */
async function readLabels(dir: string, outputs: readonly RawConfig[]): Promise<Map<string, string[]>> {
  const labels = new Map<string, string[]>();
  for (const output of outputs) {
    const file = output.label_filename;
    if (typeof file !== 'string' || file === '') continue;
    const full = path.resolve(dir, file);
    const relative = path.relative(path.resolve(dir), full);
    if (relative.startsWith('..') || path.isAbsolute(relative)) {
      throw new Error(`label file path '${full}' for output '${output.name}' is outside model directory`);
    }
    let text: string;
    try {
      text = await readFile(full, 'utf8');
    } catch (err) {
      throw new Error(`cannot read the label file '${file}' of output '${output.name}': ${messageOf(err)}`);
    }
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop(); // a final newline ends the last line, as getline reads it
    labels.set(output.name, lines);
  }
  return labels;
}

/** The bytes of each initial_state data_file, from the model's `initial_state/` directory (as Triton). */
async function readInitialStates(dir: string, files: readonly string[]): Promise<Map<string, Uint8Array>> {
  const states = new Map<string, Uint8Array>();
  const root = path.resolve(dir, 'initial_state');
  for (const file of files) {
    const full = path.resolve(root, file);
    const relative = path.relative(root, full);
    if (relative.startsWith('..') || path.isAbsolute(relative)) throw new Error(`initial state file '${file}' is outside the model's initial_state directory`);
    try {
      states.set(file, new Uint8Array(await readFile(full)));
    } catch (err) {
      throw new Error(`cannot read the initial state file '${file}': ${messageOf(err)}`);
    }
  }
  return states;
}

function messageOf(err: unknown): string {
  return err instanceof ServerError || err instanceof Error ? err.message : String(err);
}
