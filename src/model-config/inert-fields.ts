/**
 * The config.pbtxt fields Nereid parses (they are Triton's, so a Triton config loads) but does
 * not act on. Each one that a config sets to something other than its default is named, so that
 * the load can say so in one warning instead of ignoring it silently. (`format` and
 * `label_filename` do act: Triton reports the first to clients, which read it, and classification
 * ranks with the second.)
 */
import type { RawConfig } from './model-config.ts';

/** Top-level fields with no effect here. */
const kTopLevel = [
  'runtime', 'batch_input', 'batch_output', 'optimization', 'cc_model_filenames', 'metric_tags',
  'model_operations', 'model_transaction_policy', 'model_repository_agents', 'model_metrics',
] as const;

const kPerInput = ['is_shape_tensor', 'allow_ragged_batch', 'is_non_linear_format_io'] as const;
const kPerOutput = ['is_shape_tensor', 'is_non_linear_format_io'] as const;
const kPerInstanceGroup = ['rate_limiter', 'secondary_devices', 'profile', 'passive', 'host_policy'] as const;
/** The `parameters` keys the onnxruntime backend reads; any other key has no effect. */
const kParametersRead = new Set(['intra_op_thread_count', 'inter_op_thread_count']);

/** Whether `value` is what an unset field reads as (false, 0, '', an enum's first name, an empty list or message). */
function isDefault(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === '') return true;
  if (typeof value === 'string') return /^(FORMAT_NONE|TYPE_INVALID)$/.test(value);
  if (Array.isArray(value)) return value.every(isDefault);
  if (typeof value === 'object') return Object.values(value).every(isDefault);
  return false;
}

/**
 * The fields of `raw` that are set and have no effect, as paths (`model_warmup`,
 * `input[INPUT0].format`, `instance_group[0].rate_limiter`, `parameters.execution_mode`).
 */
export function inertFields(raw: RawConfig): string[] {
  const found: string[] = [];
  for (const field of kTopLevel) {
    // A JavaScript model acts on decoupled (its responses are streamed).
    if (field === 'model_transaction_policy' && raw.backend === 'javascript') continue;
    if (!isDefault(raw[field])) found.push(field);
  }
  const each = (list: RawConfig[] | undefined, where: string, fields: readonly string[], key: (t: RawConfig, i: number) => string) => {
    (list ?? []).forEach((t, i) => {
      for (const field of fields) if (!isDefault(t[field])) found.push(`${where}[${key(t, i)}].${field}`);
    });
  };
  each(raw.input, 'input', kPerInput, (t) => t.name);
  each(raw.output, 'output', kPerOutput, (t) => t.name);
  each(raw.instance_group, 'instance_group', kPerInstanceGroup, (t, i) => t.name || String(i));
  // A JavaScript model is handed its whole config, parameters included, to read as it likes.
  if (raw.backend !== 'javascript') {
    for (const key of Object.keys(raw.parameters ?? {})) if (!kParametersRead.has(key)) found.push(`parameters.${key}`);
  }
  return found;
}
