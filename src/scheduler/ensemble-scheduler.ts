/**
 * The ensemble scheduler (`platform: "ensemble"`): runs a request through the ensemble's steps,
 * each a request to another model's own scheduler, so a step batches with that model's other
 * traffic and counts in its statistics. A step starts as soon as every tensor it reads is there
 * (independent steps run side by side); tensors between steps stay in the process as the tensor
 * data of the step's answer (no serialisation). The first failing step fails the request, with
 * its error's kind and a message that names the step and its model.
 */
import { ServerError, serverError } from '../errors.ts';
import { checkRequest, type EnqueueOptions, type InferenceTarget, type InferOutput, type InferRequest, type InferResponse, type TensorData } from '../inference/index.ts';
import type { Ensemble, EnsembleStep, ModelConfig } from '../model-config/index.ts';
import type { ModelStatistics } from '../observability/index.ts';
import type { Scheduler } from './scheduler.ts';

/** The ready version of a model by name (version undefined: the newest); throws Triton's errors. */
export type ModelResolver = (name: string, version: string | undefined) => InferenceTarget;

/** An ensemble tensor: a request input, or a step's output. */
interface Tensor {
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

export class EnsembleScheduler implements Scheduler {
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    private readonly config: ModelConfig,
    private readonly version: number,
    private readonly ensemble: Ensemble,
    private readonly stats: ModelStatistics,
    private readonly models: ModelResolver,
  ) {}

  enqueue(request: InferRequest, options: EnqueueOptions = {}): Promise<InferResponse> {
    const run = this.run(request, options);
    this.running.add(run);
    const forget = () => this.running.delete(run);
    run.then(forget, forget);
    return run;
  }

  inflightCount(): number {
    return this.running.size;
  }

  pendingCount(): number {
    return 0;
  }

  /** Resolves once no request of the ensemble is running. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /**
   * The ensemble queues nothing itself: its steps wait in their models' queues, which the
   * server fails on their own (ModelRegistry.failQueued reaches every version).
   */
  failQueued(_error: ServerError): void {}

  async stop(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }

  private async run(request: InferRequest, options: EnqueueOptions): Promise<InferResponse> {
    const receivedNs = process.hrtime.bigint();
    try {
      const tensors = new Map<string, Tensor>(request.inputs.map((i) => [i.name, i]));
      await this.runSteps(request, tensors, options);
      const outputs = this.outputsOf(request, tensors);
      const doneNs = process.hrtime.bigint();
      // The ensemble's own figures: the whole request, as one run; its steps report theirs.
      this.stats.requestSucceeded({ receivedNs, batchStartNs: receivedNs, computeInputNs: 0, computeInferNs: Number(doneNs - receivedNs), computeOutputNs: 0, doneNs }, 1);
      return { id: request.id, modelName: this.config.name, modelVersion: this.version, outputs };
    } catch (err) {
      this.stats.requestFailed(receivedNs, process.hrtime.bigint(), 'OTHER');
      throw err;
    }
  }

  /** Runs every step, each once its inputs are there; rejects with the first step's failure. */
  private runSteps(request: InferRequest, tensors: Map<string, Tensor>, options: EnqueueOptions): Promise<void> {
    const steps = this.ensemble.steps;
    const started = new Set<number>();
    return new Promise((resolve, reject) => {
      let active = 0;
      let failed = false;
      const launch = (): void => {
        if (failed) return;
        steps.forEach((step, k) => {
          if (started.has(k) || !Object.values(step.inputMap).every((t) => tensors.has(t))) return;
          started.add(k);
          active++;
          this.runStep(request, k, step, tensors, options).then(() => {
            active--;
            launch();
          }, (err: unknown) => {
            failed = true;
            reject(err);
          });
        });
        // checkEnsemble made every step reachable: with none active, all have run.
        if (active === 0 && !failed) resolve();
      };
      launch();
    });
  }

  private async runStep(request: InferRequest, k: number, step: EnsembleStep, tensors: Map<string, Tensor>, options: EnqueueOptions): Promise<void> {
    try {
      const target = this.models(step.modelName, step.modelVersion === -1 ? undefined : String(step.modelVersion));
      const inputs = Object.entries(step.inputMap).map(([name, tensor]) => {
        const t = tensors.get(tensor)!;
        return { name, datatype: t.datatype, shape: t.shape, data: t.data };
      });
      const outputs = Object.keys(step.outputMap).map((name) => ({ name, binary: false }));
      checkRequest(target.config, request.id, inputs, outputs);
      const response = await target.scheduler.enqueue({ id: request.id, inputs, outputs, parameters: request.parameters }, { signal: options.signal });
      for (const o of response.outputs) {
        const tensor = step.outputMap[o.name];
        if (tensor !== undefined) tensors.set(tensor, { datatype: o.datatype.wire, shape: o.shape, data: tensorData(o) });
      }
    } catch (err) {
      const message = `in ensemble '${this.config.name}', step ${k} (model '${step.modelName}'): ${err instanceof Error ? err.message : String(err)}`;
      throw err instanceof ServerError ? new ServerError(err.reason, message) : serverError('EXECUTION_FAILED', this.config.name, message);
    }
  }

  /** The ensemble's outputs the request asked for, in the config's order; those with a sink go there. */
  private outputsOf(request: InferRequest, tensors: ReadonlyMap<string, Tensor>): InferOutput[] {
    const asked = request.outputs ? new Map(request.outputs.map((o) => [o.name, o])) : null;
    const out: InferOutput[] = [];
    for (const spec of this.config.outputs) {
      if (asked && !asked.has(spec.name)) continue;
      const t = tensors.get(spec.name);
      if (!t) throw serverError('EXECUTION_FAILED', this.config.name, `no step produced output '${spec.name}'`);
      if (t.datatype !== spec.datatype.wire) {
        throw serverError('EXECUTION_FAILED', this.config.name, `output '${spec.name}' is ${t.datatype}, but the ensemble declares ${spec.datatype.wire}`);
      }
      const sink = asked?.get(spec.name)?.sink;
      const data = t.data.kind === 'strings' ? [...t.data.strings] : t.data.kind === 'raw' ? ownBuffer(t.data.bytes) : null;
      if (data === null) throw serverError('EXECUTION_FAILED', this.config.name, `output '${spec.name}' has no data`);
      if (sink) {
        sink.accept(Array.isArray(data) ? data : new Uint8Array(data as ArrayBuffer));
        out.push({ name: spec.name, datatype: spec.datatype, shape: t.shape, data: Array.isArray(data) ? [] : new ArrayBuffer(0) });
      } else {
        out.push({ name: spec.name, datatype: spec.datatype, shape: t.shape, data });
      }
    }
    return out;
  }
}

/** A step's output as tensor data for the next step: its own buffer or strings, not copied. */
function tensorData(o: InferOutput): TensorData {
  return Array.isArray(o.data) ? { kind: 'strings', strings: o.data } : { kind: 'raw', bytes: new Uint8Array(o.data as ArrayBuffer) };
}

/** The bytes as an ArrayBuffer of their own (the step's buffer itself when the view covers it). */
function ownBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) return bytes.buffer;
  return bytes.slice().buffer as ArrayBuffer;
}
