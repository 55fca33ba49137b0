/**
 * The loaded models by name, and the lookups the front-ends make: name and optional version →
 * a ready scheduler, or the Triton-worded error.
 */
import { serverError, type ServerError } from '../errors.ts';
import type { ModelConfig } from '../model-config/index.ts';
import type { LoadedModel, ModelVersion } from './model-lifecycle.ts';
import type { Scheduler } from '../scheduler/index.ts';
import { backendCapabilities } from '../instance/index.ts';
import type { BytesForm } from '../bytes-elements.ts';

interface ReadyVersion {
  readonly config: ModelConfig;
  readonly version: number;
  readonly scheduler: Scheduler;
  /** How the model's backend holds BYTES elements (bytes-elements.ts). */
  readonly bytesForm: BytesForm;
}

/** Per model: what the repository manager did, for the metrics (Nereid's own families). */
export interface LifecycleCounts {
  loads: number;
  loadFailures: number;
  unloads: number;
  evictions: number;
  /** Seconds spent loading (successful and failed loads). */
  loadSeconds: number;
}

export class ModelRegistry {
  private readonly models = new Map<string, LoadedModel>();
  /** Load, unload and eviction counts by model name (they outlive an unload). */
  readonly lifecycle = new Map<string, LifecycleCounts>();
  /** Under --model-memory-budget: the budget and what the loaded models are estimated to use. */
  budget: { readonly unit: 'bytes' | 'models'; readonly limit: number; used: number } | null = null;

  /** The counts of `name`, made on first use. */
  counts(name: string): LifecycleCounts {
    let c = this.lifecycle.get(name);
    if (!c) {
      c = { loads: 0, loadFailures: 0, unloads: 0, evictions: 0, loadSeconds: 0 };
      this.lifecycle.set(name, c);
    }
    return c;
  }

  set(model: LoadedModel): void {
    this.models.set(model.name, model);
  }

  /** The model of that name, or undefined. */
  find(name: string): LoadedModel | undefined {
    return this.models.get(name);
  }

  /** Forgets a model (removed from the repository). */
  delete(name: string): void {
    this.models.delete(name);
  }

  all(): LoadedModel[] {
    return [...this.models.values()];
  }

  /** The model, or 404 "Request for unknown model". */
  get(name: string): LoadedModel {
    const model = this.models.get(name);
    if (!model) throw serverError('UNKNOWN_MODEL', name);
    return model;
  }

  /** A model's config, or the reason it has none. */
  config(name: string): ModelConfig {
    const model = this.get(name);
    if (!model.config) throw serverError('MODEL_NOT_READY', name);
    return model.config;
  }

  /**
   * The version to serve: the one named (it must be READY), or the newest READY one.
   * `version` is the URL's text; empty or undefined means "let the server choose".
   */
  ready(name: string, version?: string): ReadyVersion {
    const model = this.get(name);
    const entry = this.versionEntry(model, version);
    if (!entry || entry.state !== 'READY' || !entry.scheduler || !model.config) {
      if (version) throw serverError('UNKNOWN_MODEL_VERSION', name, version);
      throw serverError('MODEL_NOT_READY', name);
    }
    return { config: model.config, version: entry.version, scheduler: entry.scheduler, bytesForm: bytesFormOf(model.config) };
  }

  /** Whether the model (or the named version) can serve now. Unknown names are not ready. */
  isReady(name: string, version?: string): boolean {
    parseModelVersion(version); // a malformed version is an error, as in Triton, not "not ready"
    const model = this.models.get(name);
    if (!model) return false;
    try {
      const entry = this.versionEntry(model, version);
      return entry?.state === 'READY';
    } catch {
      return false;
    }
  }

  /**
   * Every model that should be loaded is, with every version its policy selected. Unloaded
   * models do not count; nor do, in a model that serves, versions being swapped in or out
   * (LOADING, UNLOADING, unloaded) or that failed a reload while the previous ones serve.
   */
  allReady(): boolean {
    return this.all().every((m) => {
      if (m.unloaded === true) return true;
      const versions = [...m.versions.values()];
      if (m.config === null || !versions.some((v) => v.state === 'READY')) return false;
      const reloadFailed = m.reason !== '';
      return versions.every((v) => v.state === 'READY' || v.state === 'LOADING' || v.state === 'UNLOADING' || v.reason === kUnloadedReason || reloadFailed);
    });
  }

  /** Versions that are READY, ascending. */
  readyVersions(model: LoadedModel): number[] {
    return [...model.versions.values()].filter((v) => v.state === 'READY').map((v) => v.version);
  }

  /** Refuses new requests, waits for every in-flight one, then stops every instance. */
  async stopAll(): Promise<void> {
    await Promise.all(this.schedulers().map((s) => s.stop()));
  }

  /** Requests accepted by every model and not yet answered. */
  inflight(): number {
    return this.schedulers().reduce((n, s) => n + s.inflightCount(), 0);
  }

  /** Resolves once every model has been without a request in flight (each at some moment). */
  async idle(): Promise<void> {
    await Promise.all(this.schedulers().map((s) => s.idle()));
  }

  /** Answers every request still queued, in every model, with `error`. */
  failQueued(error: ServerError): void {
    for (const s of this.schedulers()) s.failQueued(error);
  }

  private schedulers(): Scheduler[] {
    return this.all().flatMap((m) => [...m.versions.values()]).map((v) => v.scheduler).filter((s): s is Scheduler => s !== null);
  }

  private versionEntry(model: LoadedModel, version: string | undefined): ModelVersion | undefined {
    if (version === undefined || version === '') {
      const ready = [...model.versions.values()].filter((v) => v.state === 'READY');
      return ready.at(-1);
    }
    return model.versions.get(parseModelVersion(version)!);
  }
}

/** The reason of a version that was unloaded (Triton's word). */
export const kUnloadedReason = 'unloaded';

/** The most of a refused version string a message shows (it comes from the client). */
const kShownVersionChars = 32;

/**
 * A version string as Triton reads it (HTTP paths and gRPC `version` fields alike): empty means
 * "the server chooses" (undefined); decimal digits are the version, leading zeros included
 * ("01" is version 1, as Triton's integer parse gives); a negative number and anything else are
 * refused with Triton's two messages. Triton's parse also takes leading blanks and ignores
 * trailing characters ("1abc" is version 1 there); Nereid refuses those as not integral.
 */
export function parseModelVersion(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const shown = text.length > kShownVersionChars ? `${text.slice(0, kShownVersionChars)}...` : text;
  if (/^-[0-9]+$/.test(text) && Number(text) < 0) throw serverError('NEGATIVE_MODEL_VERSION', shown);
  if (!/^\+?[0-9]+$/.test(text)) throw serverError('BAD_MODEL_VERSION', shown, 'not an integer');
  const n = Number(text);
  // Triton's parse is a signed 64-bit one; past it, the value is out of range.
  if (!Number.isSafeInteger(n)) throw serverError('BAD_MODEL_VERSION', shown, 'out of range');
  return n;
}

/**
 * How the primary holds a model's BYTES elements: raw for a backend that carries them, text for
 * the others and for an ensemble (its steps may include a model that takes text only).
 */
function bytesFormOf(config: ModelConfig): BytesForm {
  if (config.ensemble) return 'text';
  return backendCapabilities(config.backend).rawBytes ? 'binary' : 'text';
}
