/**
 * The extensions server metadata advertises (`GET /v2`, gRPC ServerMetadata): exactly those
 * that work here, in the order Triton lists its own. Left out, and why: `sequence` (no sequence
 * batcher yet), `model_repository` (no load/unload), `cuda_shared_memory` (its endpoints answer,
 * but registering a region is always refused: Nereid opens no CUDA IPC handles).
 */
export const EXTENSIONS: readonly string[] = Object.freeze([
  'classification',
  'schedule_policy',
  'model_configuration',
  'system_shared_memory',
  'binary_tensor_data',
  'parameters',
  'statistics',
  'trace',
  'logging',
]);
