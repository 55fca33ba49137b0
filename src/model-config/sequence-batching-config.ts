/**
 * `sequence_batching`, normalized and checked with Triton's messages: the strategy (`direct`, the
 * default, or `oldest`), the idle time after which a sequence's slot is freed, and the control
 * inputs the server feeds the model (START, END, READY as a false/true pair of INT32, FP32 or
 * BOOL values; CORRID with its data type). Implicit state (`state`) and iterative sequences are
 * refused at load: Nereid does not serve them yet, and never accepts them to ignore them.
 */
import { datatypeFromConfig } from '../dtypes.ts';
import { serverError } from '../errors.ts';
import type { RawConfig, TensorConfig } from './model-config.ts';

export type ControlKind = 'CONTROL_SEQUENCE_START' | 'CONTROL_SEQUENCE_END' | 'CONTROL_SEQUENCE_READY' | 'CONTROL_SEQUENCE_CORRID';

/** A boolean control: the tensor and the two values it takes. */
export interface FlagControl {
  readonly tensor: TensorConfig;
  readonly falseValue: number;
  readonly trueValue: number;
}

export interface SequenceBatching {
  readonly strategy: 'direct' | 'oldest';
  /** A sequence with no request for this long loses its slot (Triton's default: 1 s). */
  readonly maxSequenceIdleUs: number;
  readonly start: FlagControl | null;
  readonly end: FlagControl | null;
  readonly ready: FlagControl | null;
  /** The correlation id's tensor (UINT64, INT64, UINT32, INT32 or STRING). */
  readonly corrid: TensorConfig | null;
  /** Every control tensor, as model inputs the server writes (not listed under `input`). */
  readonly controlTensors: readonly TensorConfig[];
  /** direct: how long a batch may wait for more slots to fill, and the share of slots that ends the wait. */
  readonly maxQueueDelayUs: number;
  readonly minimumSlotUtilization: number;
  /** oldest: sequences batched at once (the rest wait in the backlog), and preferred batch sizes. */
  readonly maxCandidateSequences: number;
  readonly preferredBatchSizes: readonly number[];
}

const kFlagKinds = ['CONTROL_SEQUENCE_START', 'CONTROL_SEQUENCE_END', 'CONTROL_SEQUENCE_READY'] as const;
const kCorridTypes = new Set(['TYPE_UINT64', 'TYPE_INT64', 'TYPE_UINT32', 'TYPE_INT32', 'TYPE_STRING']);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

export function normalizeSequenceBatching(model: string, raw: RawConfig, maxBatchSize: number): SequenceBatching {
  const fail = (what: string): never => {
    throw serverError('BAD_CONFIG', `model '${model}': ${what}`);
  };
  if (Array.isArray(raw.state) && raw.state.length > 0) fail('sequence_batching.state (implicit state) is not supported yet');
  if (raw.iterative_sequence === true) fail('sequence_batching.iterative_sequence is not supported yet');
  // Unset or 0: Triton's default of one second.
  const idle = raw.max_sequence_idle_microseconds || 1_000_000;
  if (!isInt(idle) || idle < 0) fail('sequence_batching.max_sequence_idle_microseconds must be a non-negative integer');
  const dims = [1];
  const tensor = (name: string, type: string): TensorConfig => ({ name, datatype: datatypeFromConfig(type)!, dims, reshape: null, optional: false, labels: null });

  // Each control input names one tensor and one control; Triton's checks and messages.
  const seen = new Set<string>();
  const flags = new Map<ControlKind, FlagControl>();
  let corrid: TensorConfig | null = null;
  for (const input of (raw.control_input ?? []) as RawConfig[]) {
    if (typeof input.name !== 'string' || input.name === '') fail(`sequence batching control tensor must have a name for ${model}`);
    if (seen.has(input.name)) fail(`sequence batching control tensor '${input.name}' is specified for multiple control kinds for ${model}`);
    seen.add(input.name);
    for (const c of (input.control ?? []) as RawConfig[]) {
      const kind: ControlKind = c.kind ?? 'CONTROL_SEQUENCE_START';
      const taken = kind === 'CONTROL_SEQUENCE_CORRID' ? corrid !== null : flags.has(kind);
      if (taken) fail(`sequence batching specifies multiple ${kind} tensors for ${model}`);
      const pairs = (['int32_false_true', 'fp32_false_true', 'bool_false_true'] as const).filter((f) => (c[f]?.length ?? 0) > 0);
      if (kind === 'CONTROL_SEQUENCE_CORRID') {
        if (pairs.length > 0) fail(`sequence batching must not specify either 'int32_false_true', 'fp32_false_true' or 'bool_false_true' for ${kind} for ${model}`);
        const type = c.data_type ?? 'TYPE_INVALID';
        if (!kCorridTypes.has(type)) fail(`sequence batching control tensor must specify a data_type of TYPE_UINT64, TYPE_INT64, TYPE_UINT32, TYPE_INT32 or TYPE_STRING for ${kind} for ${model} (got '${type}')`);
        corrid = tensor(input.name, type);
        continue;
      }
      if (pairs.length === 0) fail(`sequence batching must specify either 'int32_false_true', 'fp32_false_true' or 'bool_false_true' for ${kind} for ${model}`);
      if (pairs.length > 1) fail(`sequence batching specifies more than one from 'int32_false_true', 'fp32_false_true' and 'bool_false_true' for ${kind} for ${model}`);
      const values: (number | boolean)[] = c[pairs[0]];
      if (values.length !== 2) fail(`sequence batching control '${pairs[0]}' must have exactly 2 entries for ${kind} for ${model}`);
      const type = pairs[0] === 'int32_false_true' ? 'TYPE_INT32' : pairs[0] === 'fp32_false_true' ? 'TYPE_FP32' : 'TYPE_BOOL';
      flags.set(kind, { tensor: tensor(input.name, type), falseValue: Number(values[0]), trueValue: Number(values[1]) });
    }
  }

  const oldest = raw.oldest as RawConfig | undefined;
  const direct = (raw.direct ?? {}) as RawConfig;
  const delay = (oldest ?? direct).max_queue_delay_microseconds ?? 0;
  if (!isInt(delay) || delay < 0) fail(`sequence_batching.${oldest ? 'oldest' : 'direct'}.max_queue_delay_microseconds must be a non-negative integer`);
  const utilization = direct.minimum_slot_utilization ?? 0;
  if (typeof utilization !== 'number' || utilization < 0 || utilization > 1) fail(`sequence batching minimum slot utilization must be in range (0.0, 1.0] for ${model}`);
  let candidates = 0;
  let preferred: number[] = [];
  if (oldest) {
    if (oldest.preserve_ordering === true) fail('sequence_batching.oldest.preserve_ordering is not supported yet');
    candidates = oldest.max_candidate_sequences ?? 0;
    if (!isInt(candidates) || candidates < 1) fail('sequence_batching.oldest.max_candidate_sequences must be a positive integer');
    preferred = oldest.preferred_batch_size ?? [];
    for (const size of preferred) {
      if (!isInt(size) || size < 1) fail(`sequence batching preferred batch size must be positive for ${model}`);
      if (size > Math.max(1, maxBatchSize)) fail(`sequence batching preferred batch size must be <= max batch size for ${model}`);
    }
  }
  const start = flags.get('CONTROL_SEQUENCE_START') ?? null;
  const end = flags.get('CONTROL_SEQUENCE_END') ?? null;
  const ready = flags.get('CONTROL_SEQUENCE_READY') ?? null;
  return {
    strategy: oldest ? 'oldest' : 'direct',
    maxSequenceIdleUs: idle,
    start,
    end,
    ready,
    corrid,
    controlTensors: [...kFlagKinds.map((k) => flags.get(k)?.tensor), corrid].filter((t): t is TensorConfig => t != null),
    maxQueueDelayUs: delay,
    minimumSlotUtilization: utilization,
    maxCandidateSequences: candidates,
    preferredBatchSizes: [...new Set(preferred)].sort((a, b) => a - b),
  };
}

/** The names of a raw config's control tensors, which are model inputs but not client inputs. */
export function controlTensorNames(raw: RawConfig): string[] {
  return ((raw.sequence_batching?.control_input ?? []) as RawConfig[]).map((c) => c.name).filter((n): n is string => typeof n === 'string');
}
