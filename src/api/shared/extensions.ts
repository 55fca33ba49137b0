/**
 * The extensions server metadata advertises (`GET /v2`, gRPC ServerMetadata): exactly those
 * that work here, in the order Triton lists its own. `model_repository` and
 * `model_repository(unload_dependents)` are listed only in explicit model control mode, the one
 * where load and unload work. Left out, and why: `cuda_shared_memory` (its endpoints answer, but
 * registering a region is always refused: Nereid opens no CUDA IPC handles).
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

const kRepositoryExtensions = ['model_repository', 'model_repository(unload_dependents)'];

/** The list for this server: EXTENSIONS, with the repository ones where load/unload work. */
export function serverExtensions(explicitModelControl: boolean): string[] {
  if (!explicitModelControl) return [...EXTENSIONS];
  const at = EXTENSIONS.indexOf('schedule_policy');
  return [...EXTENSIONS.slice(0, at), ...kRepositoryExtensions, ...EXTENSIONS.slice(at)];
}
