/**
 * The extensions server metadata advertises (`GET /v2`, gRPC ServerMetadata): exactly those
 * that work here, in the order Triton lists its own. Left out, and why: `model_repository` (no
 * load/unload) and `cuda_shared_memory` (its endpoints answer, but registering a region is always
 * refused: Nereid opens no CUDA IPC handles).
 */
export const EXTENSIONS: readonly string[] = Object.freeze([
  'classification',
  'sequence',
  'sequence(string_id)',
  'schedule_policy',
  'model_configuration',
  'system_shared_memory',
  'binary_tensor_data',
  'parameters',
  'statistics',
  'trace',
  'logging',
]);
