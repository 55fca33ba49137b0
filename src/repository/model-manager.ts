/**
 * Triton's model repository manager: which models are loaded, and when. Three control modes:
 * `none` loads every model at start-up and never again; `poll` also rescans the repositories
 * every --repository-poll-secs and loads what was added or changed, unloads what was removed;
 * `explicit` loads what --load-model names, then what load/unload requests ask for.
 *
 * A load of a model that already serves is a swap: the new versions start (and warm up) while
 * the old ones serve; the registry switches to them in one step once they are ready; the old
 * schedulers then drain (queued and running requests finish) and stop. A load that fails leaves
 * what served in place, and says why in the index and the log. Operations on one model run one
 * at a time (a promise chain per name); at most --model-load-thread-count models load at once.
 * Every state change is logged.
 */
import os from 'node:os';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { serverError } from '../errors.ts';
import { configFromJson, type RawConfig } from '../model-config/index.ts';
import { ModelStatistics, type Logger } from '../observability/index.ts';
import { checkEnsembles, instanceCount, prepareModel, startVersion, type LoadedModel, type LoadOptions, type ModelVersion, type VersionHooks } from './model-lifecycle.ts';
import { kUnloadedReason, type ModelRegistry } from './model-registry.ts';
import { scanRepositories } from './model-repository.ts';
import { removeOverrideDir, writeOverrideFiles, type OverrideFiles } from './override-files.ts';

export type ControlMode = 'none' | 'poll' | 'explicit';

export interface ModelManagerOptions {
  readonly mode: ControlMode;
  readonly repositories: readonly string[];
  readonly load: LoadOptions;
  readonly hooks: VersionHooks;
  /** --model-load-thread-count. */
  readonly loadThreadCount: number;
  /** --repository-poll-secs. */
  readonly pollSecs: number;
  /** --load-model (explicit mode); '*' is every model. */
  readonly startupModels: readonly string[];
  readonly logger: Logger;
  /** --model-memory-budget (explicit mode): on-demand loading within it; absent or null: off. */
  readonly budget?: { readonly unit: 'bytes' | 'models'; readonly limit: number } | null;
  /** --model-load-wait-secs: how long a request waits for an on-demand load. */
  readonly loadWaitSecs?: number;
}

/** A load request's parameters: the config override (JSON text) and the file contents. */
export interface LoadParameters {
  readonly config?: string;
  readonly files?: OverrideFiles;
}

/** One row of the repository index. A model that was never loaded has no version or state. */
export interface IndexEntry {
  readonly name: string;
  readonly version?: string;
  readonly state?: string;
  readonly reason?: string;
}

/** What the front-ends call: the repository extension. */
export interface ModelControl {
  /** Whether load/unload requests are taken (explicit mode). */
  readonly explicit: boolean;
  index(readyOnly: boolean): Promise<IndexEntry[]>;
  load(name: string, parameters: LoadParameters): Promise<void>;
  unload(name: string, unloadDependents: boolean): Promise<void>;
  /** Whether inference requests load their model on demand (--model-memory-budget). */
  readonly onDemand: boolean;
  /**
   * Under on-demand loading: resolves once `name` can serve (loading it if it is in the
   * repositories and not loaded, within --model-load-wait-secs), and marks it used now. A name
   * not in the repositories resolves at once (the lookup that follows answers it).
   */
  ensureLoaded(name: string): Promise<void>;
}

/** What a loaded model was made from, to tell on the next poll or load whether it changed. */
interface Source {
  readonly dir: string;
  /** Per version: a fingerprint of its files (empty for an override, which always reloads). */
  readonly versions: Map<number, string>;
  readonly configKey: string;
  /** The temporary directory of a file override, removed once the model stops using it. */
  readonly overrideDir: string | null;
  /** A fingerprint of the whole model directory, for the poll. */
  readonly fingerprint: string;
}

const kUnloaded = kUnloadedReason;

export class ModelManager implements ModelControl {
  private readonly log: Logger;
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly sources = new Map<string, Source>();
  /** Drains of replaced or unloaded versions still under way. */
  private readonly draining = new Set<Promise<void>>();
  private readonly slots: Semaphore;
  /** Estimated use of each loaded model, in the budget's unit. */
  private readonly usage = new Map<string, number>();
  /** Models by last use, oldest first (a Map keeps insertion order; a use moves a name to the end). */
  private readonly lastUsed = new Map<string, true>();
  /** On-demand loads under way, shared by the requests that wait for them. */
  private readonly demand = new Map<string, Promise<void>>();
  private pollTimer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private closed = false;

  constructor(private readonly registry: ModelRegistry, private readonly options: ModelManagerOptions) {
    this.log = options.logger.child({ component: 'repository' });
    this.slots = new Semaphore(options.loadThreadCount);
    if (options.budget) registry.budget = { ...options.budget, used: 0 };
  }

  get onDemand(): boolean {
    return this.explicit && !!this.options.budget;
  }

  async ensureLoaded(name: string): Promise<void> {
    this.touch(name);
    if (this.registry.isReady(name)) return;
    let pending = this.demand.get(name);
    if (!pending) {
      pending = (async () => {
        const { models } = await scanRepositories(this.options.repositories);
        if (!models.some((m) => m.name === name)) return;
        this.log.info(`model '${name}' was asked for and is not loaded: loading it on demand`);
        await this.serialise(name, async () => {
          if (!this.registry.isReady(name)) await this.loadRequested(name, {});
        });
      })();
      const settled = pending.finally(() => this.demand.delete(name));
      settled.catch(() => undefined);
      this.demand.set(name, pending);
    }
    const secs = this.options.loadWaitSecs ?? 60;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(serverError('MODEL_LOAD_WAIT', name, String(secs))), secs * 1000);
    });
    try {
      await Promise.race([pending, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private touch(name: string): void {
    this.lastUsed.delete(name);
    this.lastUsed.set(name, true);
  }

  /** What `model` would use of the budget: 1 model, or its model files' bytes times its instances. */
  private async estimate(model: Awaited<ReturnType<typeof prepareModel>>): Promise<number> {
    if (!this.options.budget || !model.config) return 0;
    if (this.options.budget.unit === 'models') return 1;
    const config = model.config;
    const instances = config.instanceGroups.reduce((n, g) => n + g.count * Math.max(1, g.gpus.length), 0);
    let bytes = 0;
    for (const v of model.selected) {
      try {
        bytes += (await stat(path.join(model.dir, String(v), config.defaultModelFilename))).size * Math.max(1, instances);
      } catch {
        // A missing file fails that version's load; it uses nothing.
      }
    }
    return bytes;
  }

  /**
   * Unloads least recently used idle models until `needed` more fits the budget beside the
   * others (`name`'s own use is about to be replaced). Throws when nothing idle is left to unload.
   */
  private async makeRoom(name: string, needed: number): Promise<void> {
    const budget = this.options.budget;
    if (!budget) return;
    for (;;) {
      const used = [...this.usage].reduce((n, [m, u]) => (m === name ? n : n + u), 0);
      if (used + needed <= budget.limit) return;
      const idle = (m: string): boolean => {
        const model = this.registry.find(m);
        return m !== name && !!model && !model.unloaded && !this.chains.has(m) && !this.demand.has(m)
          && [...model.versions.values()].every((v) => (v.scheduler?.inflightCount() ?? 0) === 0);
      };
      const byAge = [...this.usage.keys()].sort((a, b) => this.age(a) - this.age(b));
      const victim = byAge.find(idle);
      if (!victim) {
        throw new Error(`the loaded models use ${used} of the ${budget.limit} ${budget.unit} of --model-memory-budget, '${name}' needs ${needed}, and no loaded model is idle to unload`);
      }
      this.log.info(`evicting model '${victim}' (least recently used and idle) to make room for '${name}' within --model-memory-budget`);
      this.registry.counts(victim).evictions++;
      await this.serialise(victim, () => this.unloadModel(victim, false));
    }
  }

  /** Position in the use order: never used first (-1), then oldest use first. */
  private age(name: string): number {
    let i = 0;
    for (const m of this.lastUsed.keys()) {
      if (m === name) return i;
      i++;
    }
    return -1;
  }

  private setUsage(name: string, value: number | null): void {
    if (value === null) this.usage.delete(name);
    else this.usage.set(name, value);
    if (this.registry.budget) this.registry.budget.used = [...this.usage.values()].reduce((a, b) => a + b, 0);
  }

  get explicit(): boolean {
    return this.options.mode === 'explicit';
  }

  /**
   * Loads what the mode loads at start-up (every model, or --load-model's in explicit mode) and,
   * in poll mode, starts polling. Failures are kept as states; the caller reads the registry.
   */
  async start(): Promise<void> {
    const { models, duplicates } = await scanRepositories(this.options.repositories);
    let wanted = models;
    if (this.options.mode === 'explicit' && !this.options.startupModels.includes('*')) {
      wanted = models.filter((m) => this.options.startupModels.includes(m.name));
      for (const name of this.options.startupModels) {
        if (models.some((m) => m.name === name)) continue;
        // Kept as a failed model, so that --exit-on-error stops the start as Triton does.
        const reason = `failed to load '${name}': no model directory of that name in the repositories`;
        this.registry.set({ name, dir: '', config: null, reason, versions: new Map() });
        this.log.error(reason);
      }
    }
    for (const [name, dirs] of duplicates) {
      const reason = `model '${name}' appears in more than one repository: ${dirs.join(', ')}`;
      this.registry.set({ name, dir: dirs[0], config: null, reason, versions: new Map() });
      this.log.error(reason);
    }
    // Share the cores among every instance of every model starting now.
    // Ensembles are checked against the configs of the models their steps name (the step is named on failure).
    const prepared = checkEnsembles(await Promise.all(wanted.map((m) => prepareModel(m.name, m.dir, this.options.load))));
    const threads = threadsFor(prepared.reduce((n, m) => n + instanceCount(m), 0));
    await Promise.all(wanted.map((m, i) => this.serialise(m.name, () => this.loadFromDir(m.name, m.dir, null, prepared[i], threads))));
    if (this.options.mode === 'poll') this.schedulePoll();
  }

  /** The repositories that cannot be read, each as a message. */
  async unreadableRepositories(): Promise<string[]> {
    return (await scanRepositories(this.options.repositories)).unreadable;
  }

  async index(readyOnly: boolean): Promise<IndexEntry[]> {
    const entries: IndexEntry[] = [];
    const { models } = await scanRepositories(this.options.repositories);
    const names = new Set([...models.map((m) => m.name), ...this.registry.all().map((m) => m.name)]);
    for (const name of [...names].sort()) {
      const model = this.registry.find(name);
      if (!model) {
        entries.push({ name });
        continue;
      }
      if (model.versions.size === 0) {
        entries.push({ name, state: 'UNAVAILABLE', reason: model.reason });
        continue;
      }
      for (const v of model.versions.values()) {
        // A reload that failed leaves the serving versions READY; the reason says what failed.
        const reason = v.state === 'READY' && model.reason ? model.reason : v.reason;
        entries.push({ name, version: String(v.version), state: v.state, reason });
      }
    }
    return readyOnly ? entries.filter((e) => e.state === 'READY') : entries;
  }

  async load(name: string, parameters: LoadParameters): Promise<void> {
    if (!this.explicit) throw serverError('MODEL_CONTROL_DISABLED');
    return this.serialise(name, () => this.loadRequested(name, parameters));
  }

  async unload(name: string, unloadDependents: boolean): Promise<void> {
    if (!this.explicit) throw serverError('MODEL_CONTROL_DISABLED');
    // No model depends on another yet (ensembles will); with or without the flag, the model goes.
    void unloadDependents;
    return this.serialise(name, () => this.unloadModel(name, false));
  }

  /** Stops polling and waits for loads, unloads and drains under way. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    await this.polling;
    await Promise.allSettled([...this.chains.values()]);
    await Promise.allSettled([...this.draining]);
    await Promise.all([...this.sources.values()].map((s) => (s.overrideDir ? removeOverrideDir(s.overrideDir) : undefined)));
  }

  /** Runs `fn` after every earlier operation on `name` (loads and unloads of one model never overlap). */
  private serialise<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.chains.get(name) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(fn);
    const settled = next.catch(() => undefined);
    this.chains.set(name, settled);
    void settled.then(() => {
      if (this.chains.get(name) === settled) this.chains.delete(name);
    });
    return next;
  }

  private async loadRequested(name: string, parameters: LoadParameters): Promise<void> {
    let override: RawConfig | undefined;
    if (parameters.config !== undefined) {
      try {
        override = configFromJson(parameters.config);
      } catch (err) {
        this.log.error(`failed to load '${name}': Invalid config override: ${(err as Error).message}`);
        throw serverError('MODEL_POLL_FAILED', name, `: Invalid config override: ${(err as Error).message}`);
      }
    }
    let dir: string;
    let overrideDir: string | null = null;
    if (parameters.files && parameters.files.size > 0) {
      // As in Triton, files stand in for the model directory: the repository is not read.
      try {
        overrideDir = await writeOverrideFiles(parameters.files);
      } catch (err) {
        this.log.error(`failed to load '${name}': ${(err as Error).message}`);
        throw serverError('MODEL_POLL_FAILED', name, `: ${(err as Error).message}`);
      }
      dir = overrideDir;
    } else {
      const { models } = await scanRepositories(this.options.repositories);
      const found = models.find((m) => m.name === name);
      if (!found) {
        this.log.error(`failed to load '${name}': no model directory of that name in the repositories`);
        throw serverError('MODEL_POLL_FAILED', name, '');
      }
      dir = found.dir;
    }
    const failure = await this.loadFromDir(name, dir, overrideDir, undefined, undefined, override, true);
    if (failure) throw serverError('LOAD_FAILED', name, failure);
  }

  /**
   * Loads (or swaps in) `name` from `dir`. Returns null when it serves, else why not (already
   * logged and in the index). `force` reloads even an unchanged model (an explicit load).
   */
  private async loadFromDir(name: string, dir: string, overrideDir: string | null, prepared?: Awaited<ReturnType<typeof prepareModel>>, threads?: number, override?: RawConfig, force = false): Promise<string | null> {
    const release = await this.slots.take();
    const start = process.hrtime.bigint();
    try {
      const failure = await this.swapIn(name, dir, overrideDir, prepared, threads, override, force);
      const counts = this.registry.counts(name);
      counts.loadSeconds += Number(process.hrtime.bigint() - start) / 1e9;
      if (failure === null && this.registry.isReady(name)) counts.loads++;
      else counts.loadFailures++;
      return failure;
    } catch (err) {
      this.registry.counts(name).loadFailures++;
      throw err;
    } finally {
      release();
    }
  }

  /**
   * An ensemble loaded on its own (a load request, a poll) is checked against the models the
   * server holds now, as at start-up; any other model passes unchanged.
   */
  private checkEnsemble(model: Awaited<ReturnType<typeof prepareModel>>): Awaited<ReturnType<typeof prepareModel>> {
    if (!model.config?.ensemble) return model;
    const others = this.registry.all().filter((m) => m.name !== model.name)
      .map((m) => ({ name: m.name, dir: m.dir, config: m.config, reason: m.reason, selected: [] }));
    return checkEnsembles([...others, model]).at(-1)!;
  }

  private async swapIn(name: string, dir: string, overrideDir: string | null, prepared: Awaited<ReturnType<typeof prepareModel>> | undefined, threads: number | undefined, override: RawConfig | undefined, force: boolean): Promise<string | null> {
    const old = this.registry.find(name);
    const oldSource = this.sources.get(name);
    const fingerprint = overrideDir ? '' : await fingerprintOf(dir);
    this.log.info(old && !old.unloaded ? `loading model '${name}' (the serving versions keep serving)` : `loading model '${name}'`);
    const ready = prepared ?? this.checkEnsemble(await prepareModel(name, dir, this.options.load, override));
    const serving = old && !old.unloaded ? [...old.versions.values()].filter((v) => v.state === 'READY') : [];
    if (!ready.config) {
      if (overrideDir) await removeOverrideDir(overrideDir);
      if (serving.length > 0) {
        // Keep what serves; remember the fingerprint so that a poll retries only after the next change.
        this.registry.set({ ...old!, reason: `reload failed, serving the previous versions: ${ready.reason}` });
        if (oldSource) this.sources.set(name, { ...oldSource, fingerprint });
      } else {
        this.registry.set({ name, dir, config: null, reason: ready.reason, versions: new Map() });
        this.sources.set(name, { dir, versions: new Map(), configKey: '', overrideDir: null, fingerprint });
      }
      this.log.error(`model '${name}' failed to load: ${ready.reason}`);
      return ready.reason;
    }
    const config = ready.config;
    const ignored = [...config.ignoredFields];
    // As in Triton, a model that enables the cache on a server without one runs uncached.
    if (config.responseCache && !this.options.hooks.responseCache) ignored.push('response_cache (the server has no --cache-config)');
    if (ignored.length > 0) {
      this.log.warn({ model: name, fields: ignored }, `model '${name}': config fields with no effect in Nereid, ignored: ${ignored.join(', ')}`);
    }
    const configKey = JSON.stringify(config.raw);
    const versionPrints = new Map<number, string>();
    for (const v of ready.selected) versionPrints.set(v, overrideDir ? '' : await fingerprintOf(path.join(dir, String(v))));
    // A version whose config and files are unchanged keeps its scheduler (no restart for nothing).
    const reusable = (v: number): ModelVersion | undefined => {
      if (force || overrideDir || !oldSource || oldSource.overrideDir || oldSource.dir !== dir || oldSource.configKey !== configKey) return undefined;
      const entry = old?.unloaded ? undefined : old?.versions.get(v);
      return entry?.state === 'READY' && oldSource.versions.get(v) === versionPrints.get(v) ? entry : undefined;
    };
    const needed = await this.estimate(ready);
    try {
      await this.makeRoom(name, needed);
    } catch (err) {
      const reason = (err as Error).message;
      if (overrideDir) await removeOverrideDir(overrideDir);
      if (serving.length === 0) this.registry.set({ name, dir, config: null, reason, versions: new Map() });
      this.log.error(`model '${name}' failed to load: ${reason}`);
      return reason;
    }
    const perInstance = threads ?? threadsFor(this.loadedInstances() + instanceCount(ready));
    // The index shows the versions being loaded as LOADING; requests still go to what serves.
    const base = old && !old.unloaded ? old : null;
    const loading = new Map<number, ModelVersion>(base ? [...base.versions] : []);
    for (const v of ready.selected) {
      if (!loading.has(v) || loading.get(v)!.state !== 'READY') loading.set(v, { version: v, state: 'LOADING', reason: '', scheduler: null, stats: new ModelStatistics() });
    }
    this.registry.set(base ? { ...base, versions: sortVersions(loading) } : { name, dir, config, reason: '', versions: sortVersions(loading) });
    const started = await Promise.all(ready.selected.map(async (v) => {
      const kept = reusable(v);
      if (kept) return kept;
      this.log.info(`model '${name}' version ${v}: LOADING`);
      const entry = await startVersion(name, dir, config, v, perInstance, this.options.hooks);
      if (entry.warmup) {
        const { samples, runs, ms } = entry.warmup;
        this.log.info({ model: name, version: v, warmupMs: ms, samples, runs }, `model '${name}' version ${v}: warmup of ${samples} samples (${runs} runs) took ${ms.toFixed(1)} ms`);
      }
      if (entry.state === 'READY') this.log.info(`model '${name}' version ${v}: READY`);
      else this.log.error(`model '${name}' version ${v}: UNAVAILABLE: ${entry.reason}`);
      return entry;
    }));
    const failed = started.filter((v) => v.state !== 'READY');
    const failure = failed.length === 0 ? null : failed.map((v) => `version ${v.version} is at UNAVAILABLE state: ${v.reason};`).join(' ');
    if (failed.length === started.length && serving.length > 0) {
      // Nothing new can serve: the old versions stay, the failed ones are listed with their reason.
      if (overrideDir) await removeOverrideDir(overrideDir);
      const versions = new Map<number, ModelVersion>([...old!.versions]);
      for (const v of failed) if (!versions.has(v.version) || versions.get(v.version)!.state !== 'READY') versions.set(v.version, v);
      this.registry.set({ ...old!, reason: `reload failed, serving the previous versions: ${failure}`, versions: sortVersions(versions) });
      if (oldSource) this.sources.set(name, { ...oldSource, fingerprint });
      this.log.error(`model '${name}' failed to reload, the previous versions keep serving: ${failure}`);
      return failure;
    }
    // Switch: the registry serves the new versions from here on. Replaced versions drain.
    const keptSet = new Set(started);
    const retiring = old && !old.unloaded ? [...old.versions.values()].filter((v) => !keptSet.has(v) && v.scheduler) : [];
    const versions = new Map<number, ModelVersion>(started.map((v) => [v.version, v]));
    for (const v of retiring) {
      if (!versions.has(v.version)) versions.set(v.version, v);
      v.state = 'UNLOADING';
    }
    this.registry.set({ name, dir, config, reason: '', versions: sortVersions(versions) });
    this.sources.set(name, { dir, versions: versionPrints, configKey, overrideDir, fingerprint });
    this.setUsage(name, started.some((v) => v.state === 'READY') ? needed : null);
    const oldOverride = oldSource?.overrideDir && oldSource.overrideDir !== overrideDir ? oldSource.overrideDir : null;
    this.retire(name, retiring, oldOverride);
    return failure;
  }

  /** Lets `versions` finish what they accepted, then stops them; marks them unloaded. */
  private retire(name: string, versions: readonly ModelVersion[], overrideDir: string | null): Promise<void> {
    const drain = (async () => {
      await Promise.all(versions.map(async (v) => {
        v.state = 'UNLOADING';
        this.log.info(`model '${name}' version ${v.version}: UNLOADING (finishing ${v.scheduler?.inflightCount() ?? 0} accepted requests)`);
        try {
          await v.scheduler?.stop();
        } catch (err) {
          this.log.error({ model: name, version: v.version, err }, `model '${name}' version ${v.version}: stopping failed`);
        }
        v.scheduler = null;
        v.state = 'UNAVAILABLE';
        v.reason = kUnloaded;
        this.log.info(`model '${name}' version ${v.version}: UNAVAILABLE: ${kUnloaded}`);
      }));
      if (overrideDir) await removeOverrideDir(overrideDir);
    })();
    this.draining.add(drain);
    void drain.finally(() => this.draining.delete(drain));
    return drain;
  }

  /** Unloads `name` and waits until its versions have drained. `removed`: gone from the repository (poll). */
  private async unloadModel(name: string, removed: boolean): Promise<void> {
    const model = this.registry.find(name);
    if (!model) return;
    const source = this.sources.get(name);
    this.sources.delete(name);
    const live = model.unloaded ? [] : [...model.versions.values()].filter((v) => v.scheduler);
    this.log.info(removed ? `model '${name}' was removed from the repository: unloading` : `unloading model '${name}'`);
    for (const v of live) v.state = 'UNLOADING';
    if (live.length > 0) this.registry.counts(name).unloads++;
    this.setUsage(name, null);
    const versions = new Map([...model.versions].map(([n, v]) => [n, live.includes(v) ? v : { ...v, state: 'UNAVAILABLE' as const, reason: kUnloaded, scheduler: null }]));
    this.registry.set({ ...model, reason: model.versions.size === 0 ? kUnloaded : '', unloaded: true, versions });
    await this.retire(name, live, source?.overrideDir ?? null);
    if (removed) this.registry.delete(name);
  }

  private loadedInstances(): number {
    let n = 0;
    for (const m of this.registry.all()) {
      if (m.unloaded || !m.config) continue;
      const perVersion = m.config.instanceGroups.reduce((k, g) => k + g.count * Math.max(1, g.gpus.length), 0);
      n += perVersion * [...m.versions.values()].filter((v) => v.scheduler).length;
    }
    return n;
  }

  private schedulePoll(): void {
    if (this.closed) return;
    this.pollTimer = setTimeout(() => {
      this.polling = this.poll().catch((err: unknown) => this.log.error({ err }, 'polling the model repositories failed'));
      void this.polling.then(() => this.schedulePoll());
    }, this.options.pollSecs * 1000);
    this.pollTimer.unref();
  }

  /** One scan: load what is new or changed, unload what is gone. A failure never stops the polling. */
  private async poll(): Promise<void> {
    const { models, duplicates } = await scanRepositories(this.options.repositories);
    const work: Promise<unknown>[] = [];
    for (const m of models) {
      const source = this.sources.get(m.name);
      const current = this.registry.find(m.name);
      if (source && source.dir === m.dir && current && !current.unloaded && source.fingerprint === await fingerprintOf(m.dir)) continue;
      if (this.closed) return;
      work.push(this.serialise(m.name, () => this.loadFromDir(m.name, m.dir, null)));
    }
    const present = new Set([...models.map((m) => m.name), ...duplicates.keys()]);
    for (const model of this.registry.all()) {
      if (!present.has(model.name)) work.push(this.serialise(model.name, () => this.unloadModel(model.name, true)));
    }
    await Promise.allSettled(work);
  }
}

function sortVersions(versions: Map<number, ModelVersion>): Map<number, ModelVersion> {
  return new Map([...versions].sort(([a], [b]) => a - b));
}

/** Cores shared among `instances` model instances (never oversubscribing the runtime threads). */
function threadsFor(instances: number): number {
  return Math.max(1, Math.floor(os.availableParallelism() / Math.max(1, instances)));
}

/**
 * Every file under `dir` (links not followed) with its size and modification time: what changes
 * when a version, a model file or config.pbtxt is added, removed or rewritten.
 */
async function fingerprintOf(dir: string): Promise<string> {
  const parts: string[] = [];
  const walk = async (at: string, depth: number): Promise<void> => {
    let entries;
    try {
      entries = await readdir(at, { withFileTypes: true });
    } catch {
      parts.push(`${at}:unreadable`);
      return;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(at, e.name);
      if (e.isDirectory() && depth < 8) await walk(full, depth + 1);
      else if (e.isFile()) {
        try {
          const s = await stat(full);
          parts.push(`${full}:${s.size}:${s.mtimeMs}`);
        } catch {
          parts.push(`${full}:gone`);
        }
      }
    }
  };
  await walk(dir, 0);
  return parts.join('\n');
}

/** At most `limit` holders at a time (--model-load-thread-count). Ten lines, so written here. */
class Semaphore {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(limit: number) {
    this.free = limit;
  }
  async take(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    return () => {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}
