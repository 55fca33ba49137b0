/**
 * `sequence_batching`, normalized and checked with Triton's messages: the strategy (`direct`, the
 * default, or `oldest`), the idle time after which a sequence's slot is freed, and the control
 * inputs the server feeds the model (START, END, READY as a false/true pair of INT32, FP32 or
 * BOOL values; CORRID with its data type), and implicit state (`state`: a model input the server
 * feeds with what the model's output gave on the sequence's previous request). Iterative sequences
 * are refused at load: Nereid does not serve them yet, and never accepts them to ignore them.
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

/** One implicit state: the model's input and output tensors, and what a sequence starts from. */
export interface ImplicitState {
  readonly input: TensorConfig;
  readonly output: TensorConfig;
  /** The state a starting request gets: its shape (without a batch dimension) and bytes. */
  readonly initialShape: readonly number[];
  readonly initialBytes: Uint8Array;
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
  readonly states: readonly ImplicitState[];
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

/**
 * `initialStateFiles` holds the bytes of each `initial_state.data_file`, read by the caller from the
 * model's `initial_state/` directory (this module does no I/O).
 */
export function normalizeSequenceBatching(model: string, raw: RawConfig, maxBatchSize: number, initialStateFiles: ReadonlyMap<string, Uint8Array> = new Map()): SequenceBatching {
  const fail = (what: string): never => {
    throw serverError('BAD_CONFIG', `model '${model}': ${what}`);
  };
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

  const states = ((raw.state ?? []) as RawConfig[]).map((s, i) => implicitState(s, i, fail, initialStateFiles));
  const stateNames = states.flatMap((s) => [s.input.name]);
  for (const name of stateNames) if (seen.has(name)) fail(`sequence batching state input '${name}' is also a control tensor`);
  if (new Set(stateNames).size !== stateNames.length) fail('sequence batching state input names must differ');

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
    states,
    maxQueueDelayUs: delay,
    minimumSlotUtilization: utilization,
    maxCandidateSequences: candidates,
    preferredBatchSizes: [...new Set(preferred)].sort((a, b) => a - b),
  };
}

function implicitState(s: RawConfig, i: number, fail: (what: string) => never, files: ReadonlyMap<string, Uint8Array>): ImplicitState {
  const where = `sequence_batching.state[${i}]`;
  if (typeof s.input_name !== 'string' || s.input_name === '') fail(`${where}.input_name must be set`);
  if (typeof s.output_name !== 'string' || s.output_name === '') fail(`${where}.output_name must be set`);
  const datatype = datatypeFromConfig(s.data_type ?? 'TYPE_INVALID');
  if (!datatype || datatype.wire === 'BYTES' || datatype.array === null) fail(`${where}.data_type must be a numeric TYPE_ value (got '${s.data_type ?? 'none'}')`);
  const dims: number[] = s.dims ?? [];
  if (dims.length === 0 || dims.some((d) => !isInt(d) || d === 0 || d < -1)) fail(`${where}.dims [${dims}] must be positive integers or -1`);
  if (s.use_same_buffer_for_input_output === true || s.use_growable_memory === true) fail(`${where}: use_same_buffer_for_input_output and use_growable_memory are for GPU backends, which Nereid does not have`);
  const inits = (s.initial_state ?? []) as RawConfig[];
  if (inits.length > 1) fail(`${where}: only one initial_state is supported`);
  let initialShape = dims.map((d) => (d === -1 ? 1 : d)); // Triton's rule for a start without initial_state
  let fromFile: Uint8Array | null = null;
  const init = inits[0];
  if (init) {
    const initDims: number[] = init.dims ?? [];
    if (initDims.some((d) => !isInt(d) || d < 1)) fail(`${where}.initial_state.dims [${initDims}] must be positive integers`);
    if (init.data_type !== undefined && init.data_type !== s.data_type) fail(`${where}.initial_state.data_type must be the state's ${s.data_type}`);
    if (initDims.length !== dims.length || dims.some((d, k) => d !== -1 && d !== initDims[k])) fail(`${where}.initial_state.dims [${initDims}] do not fit the state's dims [${dims}]`);
    initialShape = initDims;
    if (typeof init.data_file === 'string' && init.data_file !== '') {
      fromFile = files.get(init.data_file) ?? fail(`${where}.initial_state.data_file '${init.data_file}' was not read`);
    } else if (init.zero_data !== true) {
      fail(`${where}.initial_state must set zero_data: true or a data_file`);
    }
  }
  const byteLength = initialShape.reduce((n, d) => n * d, 1) * datatype!.byteSize;
  if (fromFile && fromFile.byteLength !== byteLength) {
    fail(`${where}.initial_state.data_file '${init!.data_file}' holds ${fromFile.byteLength} bytes, and dims [${initialShape}] of ${datatype!.config} need ${byteLength}`);
  }
  const tensor = (name: string): TensorConfig => ({ name, datatype: datatype!, dims, reshape: null, optional: false, labels: null });
  // Without a file, the starting state is zeros (Triton leaves it uninitialized; zeros are one such value).
  return { input: tensor(s.input_name), output: tensor(s.output_name), initialShape, initialBytes: fromFile ?? new Uint8Array(byteLength) };
}

/** The names of a raw config's control and state input tensors: model inputs, not client inputs. */
export function controlTensorNames(raw: RawConfig): string[] {
  const controls = ((raw.sequence_batching?.control_input ?? []) as RawConfig[]).map((c) => c.name);
  const states = ((raw.sequence_batching?.state ?? []) as RawConfig[]).map((s) => s.input_name);
  return [...controls, ...states].filter((n): n is string => typeof n === 'string');
}

/** The names of a raw config's state outputs: model outputs the server keeps, listed only if clients may read them. */
export function stateOutputNames(raw: RawConfig): string[] {
  return ((raw.sequence_batching?.state ?? []) as RawConfig[]).map((s) => s.output_name).filter((n): n is string => typeof n === 'string');
}

/** The `initial_state` data files a raw config names (under the model's `initial_state/` directory). */
export function initialStateFiles(raw: RawConfig): string[] {
  return ((raw.sequence_batching?.state ?? []) as RawConfig[]).flatMap((s) => ((s.initial_state ?? []) as RawConfig[]).map((i) => i.data_file))
    .filter((f): f is string => typeof f === 'string' && f !== '');
}
