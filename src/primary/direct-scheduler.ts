/**
 * The scheduler for a model without dynamic batching: each request runs alone, on the instance
 * pool with the most free instances.
 */
import { elementCount } from '../dtypes.ts';
import { serverError } from '../errors.ts';
import type { WireTensor } from '../workers/protocol.ts';
import type { ModelConfig, TensorConfig } from './config/model-config.ts';
import type { InferOutput, InferRequest } from './infer-request.ts';
import type { InstancePool } from './instance-pool.ts';
import type { InferResponse, Scheduler } from './scheduler.ts';

export class DirectScheduler implements Scheduler {
  private inflight = 0;
  private readonly inputsByName: Map<string, TensorConfig>;
  private readonly outputsByName: Map<string, TensorConfig>;

  constructor(
    private readonly config: ModelConfig,
    readonly version: number,
    private readonly pools: readonly InstancePool[],
  ) {
    this.inputsByName = new Map(config.inputs.map((t) => [t.name, t]));
    this.outputsByName = new Map(config.outputs.map((t) => [t.name, t]));
  }

  async enqueue(request: InferRequest): Promise<InferResponse> {
    this.inflight++;
    try {
      const batched = this.config.maxBatchSize > 0;
      const inputs: WireTensor[] = request.inputs.map((input) => {
        const spec = this.inputsByName.get(input.name)!;
        const dims = spec.reshape ? reshaped(input.shape, spec.reshape, batched) : input.shape;
        return { name: input.name, type: spec.datatype.ort!, dims, data: input.data };
      });
      const wanted = request.outputs ? request.outputs.map((o) => o.name) : this.config.outputs.map((t) => t.name);
      const pool = this.pickPool();
      let result;
      try {
        result = await pool.run(inputs, wanted);
      } catch (err) {
        throw serverError('EXECUTION_FAILED', this.config.name, (err as Error).message);
      }
      const batch = batched ? request.inputs[0]?.shape[0] ?? 1 : 0;
      const outputs: InferOutput[] = result.outputs.map((t) => {
        const spec = this.outputsByName.get(t.name)!;
        const shape = spec.reshape ? reshaped(t.dims, spec.dims, false, batched ? [batch] : []) : t.dims;
        return { name: t.name, datatype: spec.datatype, shape, data: t.data as InferOutput['data'] };
      });
      return { id: request.id, modelName: this.config.name, modelVersion: this.version, outputs };
    } finally {
      this.inflight--;
    }
  }

  inflightCount(): number {
    return this.inflight;
  }

  async stop(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.close()));
  }

  private pickPool(): InstancePool {
    let best = this.pools[0];
    for (const p of this.pools) {
      if (p.inflight / p.count < best.inflight / best.count) best = p;
    }
    return best;
  }
}

/**
 * Applies a config reshape: keeps the batch dim when batched (or puts `lead` in front), and
 * resolves one -1 from the element count.
 */
function reshaped(shape: readonly number[], target: readonly number[], batched: boolean, lead: number[] = []): number[] {
  const head = batched ? [shape[0]] : lead;
  const total = elementCount(shape) / elementCount(head);
  const known = target.filter((d) => d !== -1);
  const fixed = elementCount(known);
  const dims = target.map((d) => (d === -1 ? (fixed === 0 ? 0 : total / fixed) : d));
  return [...head, ...dims];
}
