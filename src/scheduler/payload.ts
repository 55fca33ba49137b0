/**
 * A payload (Triton's word for a batch in flight): the requests a scheduler took from its queue,
 * run once on one instance. Both scheduler kinds send their batches through runPayload: the
 * inputs are assembled into a slot of the instance's ring, the instance runs them, the outputs
 * are split back into one answer per request, and statistics and traces are recorded.
 */
import { serverError, ServerError } from '../errors.ts';
import { assembleBatch, modelOutputs } from './batch-assembly.ts';
import type { PendingView } from './batch-decision.ts';
import { planDirectOutputs, splitBatch } from './batch-split.ts';
import type { QueueItem } from './request-queue.ts';
import type { ModelConfig } from '../model-config/index.ts';
import type { InferOutput, InferRequest, InferResponse, TensorSink } from '../inference/index.ts';
import type { ModelInstance, StreamedResponse } from '../instance/index.ts';
import type { TypedArray } from '../dtypes.ts';
import type { FailureReason, ModelStatistics, RequestTrace } from '../observability/index.ts';

/** A request accepted by a scheduler, waiting in its queue or running in a payload. */
export interface QueuedRequest extends QueueItem, PendingView {
  readonly request: InferRequest;
  readonly receivedNs: bigint;
  readonly wanted: ReadonlySet<string> | null;
  /** Outputs to hand to a sink (a client's shared-memory region), by name. */
  readonly sinks: ReadonlyMap<string, TensorSink> | undefined;
  /** Null unless the request was sampled for tracing. */
  readonly trace: RequestTrace | null;
  readonly resolve: (r: InferResponse) => void;
  readonly reject: (e: Error) => void;
}

/** The model version a payload runs for. */
export interface PayloadModel {
  readonly config: ModelConfig;
  readonly version: number;
  readonly stats: ModelStatistics;
}

/**
 * Runs `batch` on `instance` and settles every request in it; never rejects. The instance must
 * be free: the run starts in this call's synchronous part, so the instance is busy when it returns.
 */
export async function runPayload(model: PayloadModel, instance: ModelInstance, batch: readonly QueuedRequest[]): Promise<void> {
  const { config, stats } = model;
  const batchStartNs = process.hrtime.bigint();
  const ring = instance.ring;
  const slot = ring.acquire();
  const slotBytes = slot >= 0 ? ring.bytes(slot) : null;
  const rows = batch.map((p) => p.rows);
  // A failure while the worker runs the batch is the model's (BACKEND); elsewhere it is OTHER.
  let reason: FailureReason = 'OTHER';
  try {
    const assembled = assembleBatch(config, batch.map((p) => p.request.inputs), slotBytes);
    if (slot >= 0) ring.publish(slot);
    const assembledNs = process.hrtime.bigint();
    const all = config.sequenceBatching ? modelOutputs(config) : config.outputs;
    const names = batch.some((p) => p.wanted === null)
      ? all.map((t) => t.name)
      : all.map((t) => t.name).filter((n) => batch.some((p) => p.wanted!.has(n)));
    const wanted = batch.map((p) => p.wanted);
    const sinks = batch.map((p) => p.sinks);
    // Outputs into client regions are written by the worker itself (as their inputs are read).
    const plan = planDirectOutputs(config, names, rows, wanted, sinks);
    reason = 'BACKEND';
    const extras = plan.direct.length > 0 ? { direct: plan.direct, writtenOnly: plan.writtenOnly } : {};
    // A backend that answers requests one by one (JavaScript) is told where each request's rows are.
    const requests = perRequest(config) ? { requests: { rows: config.maxBatchSize > 0 ? rows : rows.map(() => 1), parameters: batch.map((p) => p.request.parameters) } } : {};
    // A decoupled model's responses go to their requests as they come.
    const stream = config.decoupled ? { onResponse: (m: StreamedResponse) => deliver(config, batch[m.request], m) } : {};
    const result = await instance.run({ slot, inputs: assembled.inputs, outputs: names, ...extras, ...requests, ...stream });
    reason = 'OTHER';
    const splitStartNs = process.hrtime.bigint();
    // Each failure belongs to one request, which its regions report when it settles.
    for (const f of result.direct.failedReads) assembled.sources[f.source].failed(f.reason);
    result.direct.writes.forEach((outcome, k) => plan.sinks[k].settle(outcome));
    const errors = result.errors;
    // Requests the backend failed keep (zero-filled) rows in the outputs unless all of them failed.
    const outputs = result.streamed || errors?.every((e) => e !== null) ? batch.map(() => []) : splitBatch(config, result.outputs, slotBytes, rows, wanted, sinks, plan.delivered);
    const doneNs = process.hrtime.bigint();
    const inputNs = Number(assembledNs - batchStartNs) + result.timings.inputNs;
    const outputNs = result.timings.outputNs + Number(doneNs - splitStartNs);
    const batchSize = rows.reduce((a, b) => a + b, 0);
    stats.batchExecuted(batchSize, inputNs, result.timings.inferNs, outputNs);
    stats.instanceExecuted(instance.group, instance.device, instance.name, batchSize);
    batch.forEach((p, r) => {
      const error = errors?.[r];
      if (error !== undefined && error !== null) {
        stats.requestFailed(p.receivedNs, doneNs, 'BACKEND');
        if (p.trace) {
          p.trace.stamp('COMPUTE_START', batchStartNs);
          p.trace.end(doneNs);
        }
        p.reject(serverError('EXECUTION_FAILED', config.name, error));
        return;
      }
      stats.requestSucceeded({
        receivedNs: p.receivedNs,
        batchStartNs,
        computeInputNs: inputNs,
        computeInferNs: result.timings.inferNs,
        computeOutputNs: outputNs,
        doneNs,
      }, config.maxBatchSize > 0 ? p.rows : 1);
      if (p.trace) traceComputed(p.trace, batchStartNs, inputNs, outputNs, doneNs, outputs[r]);
      p.resolve({ id: p.request.id, modelName: config.name, modelVersion: model.version, outputs: outputs[r] });
    });
  } catch (err) {
    const failure = err instanceof ServerError ? err : serverError('EXECUTION_FAILED', config.name, (err as Error).message);
    const doneNs = process.hrtime.bigint();
    for (const p of batch) {
      stats.requestFailed(p.receivedNs, doneNs, reason);
      if (p.trace) {
        p.trace.stamp('COMPUTE_START', batchStartNs);
        p.trace.end(doneNs);
      }
      p.reject(failure);
    }
  } finally {
    // The worker's task has settled (answered, failed or died): nothing writes the slot now.
    if (slot >= 0) ring.release(slot);
  }
}

/** Hands a decoupled model's response to its request: the outputs it asked for, each in a buffer of its own. */
function deliver(config: ModelConfig, p: QueuedRequest, m: StreamedResponse): void {
  const specs = new Map(config.outputs.map((t) => [t.name, t]));
  const outputs: InferOutput[] | null = m.outputs === null ? null : m.outputs
    .filter((o) => specs.has(o.name) && (p.wanted === null || p.wanted.has(o.name)))
    .map((o) => {
      const data = Array.isArray(o.data)
        ? [...(o.data as readonly string[])]
        : new Uint8Array((o.data as TypedArray).buffer, (o.data as TypedArray).byteOffset, (o.data as TypedArray).byteLength).slice().buffer;
      return { name: o.name, datatype: specs.get(o.name)!.datatype, shape: [...o.shape], data };
    });
  p.request.respond?.({ outputs, error: m.error, final: m.final });
}

/** Whether the model's backend answers each request of a batch on its own (and may fail one alone). */
function perRequest(config: ModelConfig): boolean {
  return config.backend === 'javascript';
}

/**
 * The compute instants of a sampled request, derived from the batch's start and the durations
 * the statistics count: input ends `inputNs` after the start (assembly here plus the worker's
 * copy), output starts `outputNs` before the end (the worker's writes plus the split here). In
 * between lie the run and the two trips to the worker. The trace thus agrees with the statistics.
 */
function traceComputed(trace: RequestTrace, startNs: bigint, inputNs: number, outputNs: number, endNs: bigint, outputs: readonly InferOutput[]): void {
  trace.stamp('COMPUTE_START', startNs);
  trace.stamp('COMPUTE_INPUT_END', startNs + BigInt(Math.round(inputNs)));
  trace.stamp('COMPUTE_OUTPUT_START', endNs - BigInt(Math.round(outputNs)));
  trace.stamp('COMPUTE_END', endNs);
  if (trace.tensors) trace.backendOutputs(outputs);
  trace.end(process.hrtime.bigint());
}
