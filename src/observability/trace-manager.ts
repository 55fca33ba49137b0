/**
 * The trace extension's state: the global trace setting, each model's own values on top of it,
 * the sampling counters, and the trace file. Schedulers ask `sample()` once per request; while
 * no setting can trace (the default: level OFF), that is one boolean test.
 *
 * Sampling follows Triton: each setting counts the requests it sees and traces every rate-th
 * one while its count (-1: no limit) lasts. A model without values of its own shares the global
 * counter; a model with some has its own, restarted (as Triton does) whenever its setting or the
 * global one changes. The settings surface (`get`, `update`) is what the HTTP routes use and what
 * the gRPC TraceSetting RPC can use: same JSON fields, same checks.
 */
import { RequestTrace } from './request-trace.ts';
import { TraceFileWriter } from './trace-file-writer.ts';
import {
  checkTraceUpdate, DEFAULT_TRACE_SETTING, traceSettingJson,
  type TraceOverride, type TraceSetting, type TraceSettingJson, type TraceUpdate,
} from '../cli/index.ts';

/** One effective setting and its counters. */
class Sampler {
  private seen = 0;
  /** Traces still to take (-1: no limit); shown as trace_count. */
  count: number;

  constructor(readonly setting: TraceSetting) {
    this.count = setting.count;
  }

  /** Whether this setting can trace at all (Triton's TraceSetting::Valid). */
  get valid(): boolean {
    const s = this.setting;
    return s.level.length > 0 && s.rate > 0 && s.file !== '' && this.count !== 0;
  }

  /** Counts a request; true when it is to be traced. */
  hit(): boolean {
    if (!this.valid) return false;
    if (++this.seen % this.setting.rate !== 0) return false;
    if (this.count > 0) this.count--;
    return true;
  }
}

/** The scheduler's side: one call per request. */
export interface TraceSampler {
  /** A trace for this request, or null (almost always). */
  sample(model: string, version: number, requestId: string | undefined): RequestTrace | null;
}

export class TraceManager implements TraceSampler {
  private readonly initial: TraceSetting;
  private global: Sampler;
  private readonly overrides = new Map<string, TraceOverride>();
  private readonly samplers = new Map<string, Sampler>();
  private readonly writer: TraceFileWriter;
  /** Some setting can trace; false keeps `sample` to one test. */
  private active = false;
  private nextId = 1;

  constructor(setting: TraceSetting = DEFAULT_TRACE_SETTING, onError: (err: Error) => void = () => {}) {
    this.initial = setting;
    this.global = new Sampler(setting);
    this.writer = new TraceFileWriter(setting.file, onError);
    this.refresh();
  }

  sample(model: string, version: number, requestId: string | undefined): RequestTrace | null {
    if (!this.active) return null;
    const sampler = this.samplers.get(model) ?? this.global;
    if (!sampler.hit()) return null;
    if (sampler.count === 0) this.refresh();
    const { level, logFrequency } = sampler.setting;
    return new RequestTrace(this.nextId++, model, version, requestId, level.includes('TIMESTAMPS'), level.includes('TENSORS'),
      logFrequency, (trace) => this.writer.write(trace.items, trace.logFrequency, sampler));
  }

  /** The setting in force for `model` (or the global one), in the trace extension's JSON. */
  get(model?: string): TraceSettingJson {
    const sampler = (model !== undefined ? this.samplers.get(model) : undefined) ?? this.global;
    return traceSettingJson({ ...sampler.setting, count: sampler.count });
  }

  /**
   * Applies a trace extension update (JSON fields as Triton's) to the global setting, or to
   * `model`'s own values; null clears a value (the model follows the global one again; the
   * global one goes back to its start-up value). Throws a ServerError for a bad update, and
   * changes nothing then. Returns the setting now in force.
   */
  update(body: unknown, model?: string): TraceSettingJson {
    const update = checkTraceUpdate(body);
    if (model === undefined) {
      const current = { ...this.global.setting, count: this.global.count };
      this.global = new Sampler(merge(current, update, this.initial));
      for (const name of this.overrides.keys()) this.samplers.set(name, new Sampler(this.effective(name)));
    } else {
      const own = merge(this.overrides.get(model) ?? {}, update, {});
      if (Object.keys(own).length === 0) {
        this.overrides.delete(model);
        this.samplers.delete(model);
      } else {
        this.overrides.set(model, own);
        this.samplers.set(model, new Sampler(this.effective(model)));
      }
    }
    this.refresh();
    return this.get(model);
  }

  /** Writes what is still buffered and closes the file. */
  close(): Promise<void> {
    this.active = false;
    return this.writer.close();
  }

  /** Waits until every finished trace is in the file. */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  private effective(model: string): TraceSetting {
    const own = this.overrides.get(model) ?? {};
    const base = this.global.setting;
    // A model's own count starts afresh; without one it starts from the global remaining count.
    return { ...base, count: this.global.count, ...own };
  }

  private refresh(): void {
    this.active = this.global.valid || [...this.samplers.values()].some((s) => s.valid);
  }
}

/** `current` with `update` applied; a null clears a field back to `fallback`'s value (or removes it). */
function merge<T extends TraceOverride>(current: T, update: TraceUpdate, fallback: Partial<TraceSetting>): T {
  const out: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(update)) {
    if (value !== null) out[key] = value;
    else if (key in fallback) out[key] = fallback[key as keyof TraceSetting];
    else delete out[key];
  }
  return out as T;
}
