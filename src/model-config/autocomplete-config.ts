/**
 * Completes a model's config from the ONNX model itself, as Triton's onnxruntime backend does:
 * name, platform and backend, max_batch_size, and the inputs' and outputs' datatypes and dims.
 * Pure: takes the parsed config and the model's io, returns a new config object.
 */
import { datatypeFromOnnx } from '../dtypes.ts';
import type { RawConfig } from './model-config.ts';
import { controlTensorNames, stateOutputNames } from './sequence-batching-config.ts';

/** The model's io as read from the .onnx file: a number is a fixed dim; a string or null is dynamic. */
export interface ModelIo {
  readonly name: string;
  readonly elemType: string;
  readonly shape: readonly (number | string | null)[] | null;
}

/** Triton's --backend-config default-max-batch-size. */
export const DEFAULT_MAX_BATCH_SIZE = 4;

const isDynamic = (d: number | string | null | undefined): boolean => typeof d !== 'number' || d < 0;

/**
 * Fills what config.pbtxt leaves out. `max_batch_size` is completed only when the file does not
 * set it at all (Triton cannot tell an explicit 0 from an absent field; we can, and keep the 0).
 */
export function autocompleteConfig(raw: RawConfig, io: { inputs: readonly ModelIo[]; outputs: readonly ModelIo[] }, modelName: string, defaultMaxBatchSize: number = DEFAULT_MAX_BATCH_SIZE): RawConfig {
  const config: RawConfig = structuredClone(raw);
  config.name ??= modelName;
  if (!config.platform && !config.backend) {
    config.platform = 'onnxruntime_onnx';
  }
  if (config.platform === 'onnxruntime_onnx') config.backend ??= 'onnxruntime';
  if (config.backend === 'onnxruntime') config.platform ??= 'onnxruntime_onnx';

  const all = [...io.inputs, ...io.outputs];
  const batchable = all.length > 0 && all.every((t) => t.shape !== null && t.shape.length > 0 && isDynamic(t.shape[0]));
  if (config.max_batch_size === undefined) {
    config.max_batch_size = batchable ? defaultMaxBatchSize : 0;
    if (config.max_batch_size > 0 && config.dynamic_batching === undefined && config.sequence_batching === undefined) {
      config.dynamic_batching = {};
    }
  }
  const batched = config.max_batch_size > 0 && batchable;

  // Sequence control tensors are model inputs that the server feeds, never client inputs.
  const controls = new Set(controlTensorNames(config));
  config.input = completeTensors(config.input, io.inputs.filter((t) => !controls.has(t.name)), batched);
  const stateOutputs = new Set(stateOutputNames(config));
  config.output = completeTensors(config.output, io.outputs.filter((t) => !stateOutputs.has(t.name) || (config.output ?? []).some((o: RawConfig) => o.name === t.name)), batched);
  return config;
}

function completeTensors(given: RawConfig[] | undefined, model: readonly ModelIo[], batched: boolean): RawConfig[] {
  const byName = new Map(model.map((t) => [t.name, t]));
  const out: RawConfig[] = (given ?? []).map((t) => ({ ...t }));
  // With no tensors listed, list them all; with some listed, complete those only (as Triton).
  if (out.length === 0) {
    for (const t of model) out.push({ name: t.name });
  }
  for (const t of out) {
    const m = byName.get(t.name);
    if (!m) continue; // validation names it
    if (t.data_type === undefined) {
      const dt = datatypeFromOnnx(m.elemType);
      if (dt) t.data_type = dt.config;
    }
    if (t.dims === undefined && m.shape !== null) {
      const dims = (batched ? m.shape.slice(1) : m.shape).map((d) => (isDynamic(d) ? -1 : (d as number)));
      t.dims = dims;
    }
  }
  return out;
}
