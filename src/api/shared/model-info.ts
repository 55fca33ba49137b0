/**
 * What the HTTP and gRPC front-ends both answer about models: metadata (name, versions,
 * platform, tensors). Written once
 * here so the two protocols cannot drift apart.
 */
import type { ModelRegistry } from '../../repository/index.ts';

interface TensorMetadata {
  readonly name: string;
  readonly datatype: string;
  /** Leads with -1 for the batch dimension when the model batches. */
  readonly shape: number[];
}

interface ModelMetadata {
  readonly name: string;
  readonly versions: string[];
  readonly platform: string;
  readonly inputs: TensorMetadata[];
  readonly outputs: TensorMetadata[];
}

/**
 * A model's metadata; with a version, that version must be ready. Throws the registry's
 * Triton-worded errors for an unknown model or version.
 */
export function modelMetadata(registry: ModelRegistry, model: string, version?: string): ModelMetadata {
  const entry = registry.get(model);
  const config = registry.config(model);
  if (version) registry.ready(model, version);
  const lead = config.maxBatchSize > 0 ? [-1] : [];
  const describe = (t: (typeof config.inputs)[number]): TensorMetadata => ({ name: t.name, datatype: t.datatype.wire, shape: [...lead, ...t.dims] });
  return {
    name: model,
    versions: (version ? [Number(version)] : registry.readyVersions(entry)).map(String),
    platform: config.platform,
    inputs: config.inputs.map(describe),
    outputs: config.outputs.map(describe),
  };
}
