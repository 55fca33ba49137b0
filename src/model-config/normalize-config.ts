/**
 * Normalizes and validates a completed config into a frozen, typed ModelConfig: defaults filled,
 * instance groups placed, every field checked once with a message that names the model and field.
 */
import { datatypeFromConfig, datatypeFromOnnx } from '../dtypes.ts';
import { serverError } from '../errors.ts';
import type { ModelIo } from './autocomplete-config.ts';
import { normalizeDynamicBatching } from './dynamic-batching-config.ts';
import { decideInstanceKind } from './instance-kind.ts';
import { inertFields } from './inert-fields.ts';
import { normalizeSequenceBatching } from './sequence-batching-config.ts';
import { normalizeEnsemble } from './ensemble-config.ts';
import type { InstanceGroup, ModelConfig, RawConfig, TensorConfig, VersionPolicy } from './model-config.ts';

export interface NormalizeContext {
  /** The model's directory name. */
  readonly modelName: string;
  /** GPU ids present on this machine. */
  readonly gpus: readonly number[];
  /** Whether onnxruntime's CUDA execution provider is loadable (instance-kind.ts); false when absent. */
  readonly cudaProvider?: boolean;
  /** Threads where the config's parameters set none (--backend-config=onnxruntime,…); null: the server's share. */
  readonly defaultIntraOpThreads?: number | null;
  readonly defaultInterOpThreads?: number | null;
  /** The bytes of each sequence_batching initial_state data_file, read by the caller. */
  readonly initialStates?: ReadonlyMap<string, Uint8Array>;
  /** Each output's labels, read from its label_filename by the caller (this module does no I/O). */
  readonly labels?: ReadonlyMap<string, readonly string[]>;
  /** The model's io from the .onnx file; null when no version file could be read. */
  readonly io: { inputs: readonly ModelIo[]; outputs: readonly ModelIo[] } | null;
}

const fail = (model: string, what: string): never => {
  throw serverError('BAD_CONFIG', `model '${model}': ${what}`);
};

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

export function normalizeConfig(completed: RawConfig, ctx: NormalizeContext): ModelConfig {
  const raw: RawConfig = structuredClone(completed);
  const m = ctx.modelName;
  if (raw.name !== m) fail(m, `config name '${raw.name}' does not match the model's directory name '${m}'`);
  // Each of platform and backend implies the other; Triton fills the missing one while
  // normalizing, so a config naming only one loads with auto-complete off too.
  if (raw.platform === 'onnxruntime_onnx' && !raw.backend) raw.backend = 'onnxruntime';
  if (raw.backend === 'onnxruntime' && !raw.platform) raw.platform = 'onnxruntime_onnx';
  // A backend named alone (no platform) is any registered backend: whether it exists is known
  // only to the worker side's registry, which fails the load with a reason naming it.
  const backendAlone = !raw.platform && typeof raw.backend === 'string' && raw.backend !== '';
  // An ensemble runs other models; it has no backend of its own.
  const isEnsemble = raw.platform === 'ensemble';
  if (isEnsemble && raw.backend) fail(m, `platform "ensemble" takes no backend (got '${raw.backend}')`);
  if (!isEnsemble && !backendAlone && (raw.platform !== 'onnxruntime_onnx' || raw.backend !== 'onnxruntime')) {
    fail(m, `platform '${raw.platform ?? ''}' / backend '${raw.backend ?? ''}' is not supported; Nereid serves platform "onnxruntime_onnx" (backend "onnxruntime"), platform "ensemble", or a registered backend named by backend alone`);
  }
  const maxBatchSize = raw.max_batch_size ?? 0;
  if (!isInt(maxBatchSize) || maxBatchSize < 0) fail(m, `max_batch_size must be a non-negative integer`);
  raw.max_batch_size = maxBatchSize;

  const modelIo = ctx.io;
  const inputs = tensors(m, 'input', raw.input ?? [], modelIo?.inputs ?? null, maxBatchSize);
  const outputs = tensors(m, 'output', raw.output ?? [], modelIo?.outputs ?? null, maxBatchSize, ctx.labels);
  const javascript = raw.backend === 'javascript';
  if (isEnsemble && inputs.length === 0) fail(m, 'an ensemble must list its inputs under input');
  if (isEnsemble && outputs.length === 0) fail(m, 'an ensemble must list its outputs under output');
  // Auto-complete reads an ONNX file; it cannot read a model's JavaScript.
  if (inputs.length === 0) fail(m, javascript ? 'a backend "javascript" model must list its inputs under input (auto-complete cannot read model.js)' : 'the model has no inputs: list them under input, or leave auto-complete on');
  if (outputs.length === 0) fail(m, javascript ? 'a backend "javascript" model must list its outputs under output (auto-complete cannot read model.js)' : 'the model has no outputs: list them under output, or leave auto-complete on');
  const decoupled = javascript && raw.model_transaction_policy?.decoupled === true;
  if (decoupled && raw.sequence_batching !== undefined) fail(m, 'a decoupled model cannot have sequence_batching here');

  const versionPolicy = versionPolicyOf(m, raw);
  raw.version_policy = versionPolicy.kind === 'latest' ? { latest: { num_versions: versionPolicy.numVersions } }
    : versionPolicy.kind === 'all' ? { all: {} } : { specific: { versions: [...versionPolicy.versions] } };

  // An ensemble has no instances: its steps run on their own models'.
  const ensemble = isEnsemble ? normalizeEnsemble(m, raw) : null;
  const instanceGroups = isEnsemble ? [] : instanceGroupsOf(m, raw.instance_group ?? [], ctx.gpus, ctx.cudaProvider ?? false);
  if (!isEnsemble) raw.instance_group = instanceGroups.map((g) => ({ name: g.name, kind: g.kind, count: g.count, gpus: [...g.gpus] }));

  const dynamicBatching = raw.dynamic_batching !== undefined ? normalizeDynamicBatching(m, raw.dynamic_batching, maxBatchSize) : null;
  // Triton's refusals of the response cache, before the sequence batcher's own.
  const responseCache = raw.response_cache?.enable === true;
  if (responseCache && raw.sequence_batching !== undefined) {
    fail(m, `Response Cache does not currently support model ${m} with sequence batching scheduler. Please disable the response cache.`);
  }
  if (responseCache && raw.model_transaction_policy?.decoupled === true) {
    fail(m, `Response Cache does not currently support model ${m} with 'decoupled' transaction policy. Please disable the response cache.`);
  }
  if (raw.sequence_batching !== undefined && dynamicBatching !== null) fail(m, 'dynamic_batching and sequence_batching cannot both be set');
  const sequenceBatching = raw.sequence_batching !== undefined ? normalizeSequenceBatching(m, raw.sequence_batching, maxBatchSize, ctx.initialStates) : null;
  for (const control of [...(sequenceBatching?.controlTensors ?? []), ...(sequenceBatching?.states ?? []).map((s) => s.input)]) {
    if (inputs.some((t) => t.name === control.name)) fail(m, `sequence batching control tensor '${control.name}' must not also be listed under input: the server feeds it`);
    const model = modelIo?.inputs.find((t) => t.name === control.name);
    if (modelIo && !model) fail(m, `sequence batching control tensor '${control.name}' is not an input of the model, whose inputs are: ${modelIo.inputs.map((t) => t.name).join(', ')}`);
    const modelType = model ? datatypeFromOnnx(model.elemType) : undefined;
    if (model && modelType?.config !== control.datatype.config) {
      fail(m, `sequence batching control tensor '${control.name}': data type ${control.datatype.config} does not match the model's ${modelType?.config ?? model.elemType}`);
    }
  }
  for (const state of sequenceBatching?.states ?? []) {
    const model = modelIo?.outputs.find((t) => t.name === state.output.name);
    if (modelIo && !model) fail(m, `sequence batching state output '${state.output.name}' is not an output of the model, whose outputs are: ${modelIo.outputs.map((t) => t.name).join(', ')}`);
    if (model && datatypeFromOnnx(model.elemType)?.config !== state.output.datatype.config) {
      fail(m, `sequence batching state output '${state.output.name}': data type ${state.output.datatype.config} does not match the model's ${datatypeFromOnnx(model.elemType)?.config ?? model.elemType}`);
    }
  }
  if (!isEnsemble && raw.ensemble_scheduling !== undefined) fail(m, 'ensemble_scheduling is set, but the platform is not "ensemble"');

  const parameters: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw.parameters ?? {})) {
    parameters[key] = String((value as RawConfig)?.string_value ?? '');
  }
  const intraOpThreads = threadParam(m, parameters, 'intra_op_thread_count') ?? ctx.defaultIntraOpThreads ?? null;
  const interOpThreads = threadParam(m, parameters, 'inter_op_thread_count') ?? ctx.defaultInterOpThreads ?? 1;

  if (!isEnsemble) raw.default_model_filename ||= javascript ? 'model.js' : 'model.onnx';
  const ignoredFields = inertFields(raw);
  return deepFreeze({
    name: m,
    platform: raw.platform ?? '',
    backend: raw.backend ?? '',
    maxBatchSize,
    inputs,
    outputs,
    versionPolicy,
    instanceGroups,
    dynamicBatching,
    sequenceBatching,
    responseCache,
    defaultModelFilename: raw.default_model_filename ?? '',
    parameters,
    intraOpThreads,
    interOpThreads,
    ignoredFields,
    raw,
    ensemble,
    decoupled,
  });
}

function tensors(
  m: string, field: 'input' | 'output', list: RawConfig[], io: readonly ModelIo[] | null, maxBatchSize: number,
  labels?: ReadonlyMap<string, readonly string[]>,
): TensorConfig[] {
  const seen = new Set<string>();
  const byName = new Map((io ?? []).map((t) => [t.name, t]));
  return list.map((t, i) => {
    const where = `${field}[${i}]`;
    if (typeof t.name !== 'string' || t.name === '') fail(m, `${where}.name must be a non-empty string`);
    if (seen.has(t.name)) fail(m, `${field} '${t.name}' is listed more than once`);
    seen.add(t.name);
    const datatype = datatypeFromConfig(t.data_type ?? 'TYPE_INVALID');
    if (!datatype) fail(m, `${field} '${t.name}': data_type must be set to a TYPE_ value (got '${t.data_type ?? 'none'}')`);
    const dims: number[] = t.dims ?? fail(m, `${field} '${t.name}': dims must be set`);
    if (dims.some((d) => !isInt(d) || d === 0 || d < -1)) fail(m, `${field} '${t.name}': dims [${dims}] must be positive integers or -1`);
    let reshape: number[] | null = null;
    if (t.reshape !== undefined) {
      reshape = t.reshape.shape ?? [];
      if (reshape!.some((d) => !isInt(d) || d === 0 || d < -1)) fail(m, `${field} '${t.name}': reshape.shape must be positive integers or -1`);
    }
    if (io) {
      const model = byName.get(t.name);
      if (!model) {
        fail(m, `unexpected inference ${field} '${t.name}', allowed ${field}s are: ${[...byName.keys()].join(', ')}`);
      }
      const modelType = datatypeFromOnnx(model!.elemType);
      if (modelType && modelType.config !== datatype!.config) {
        fail(m, `${field} '${t.name}': data_type ${datatype!.config} does not match the model's ${modelType.config}`);
      }
      if (!modelType) fail(m, `${field} '${t.name}': the model's element type ${model!.elemType} is not supported`);
      if (datatype!.ort === null) fail(m, `${field} '${t.name}': ${datatype!.config} tensors cannot be passed to onnxruntime-node`);
      if (model!.shape) {
        const seenShape = reshape ?? dims;
        const modelDims = maxBatchSize > 0 ? model!.shape.slice(1) : model!.shape;
        if (maxBatchSize > 0 && model!.shape.length > 0 && typeof model!.shape[0] === 'number' && model!.shape[0] > 0) {
          fail(m, `${field} '${t.name}': max_batch_size ${maxBatchSize} needs a dynamic first dim in the model, which has ${model!.shape[0]}`);
        }
        const clash = modelDims.length !== seenShape.length
          || modelDims.some((d, k) => typeof d === 'number' && d > 0 && seenShape[k] !== -1 && seenShape[k] !== d);
        if (clash) {
          fail(m, `${field} '${t.name}': dims [${seenShape}] do not match the model's [${modelDims.map((d) => (typeof d === 'number' && d > 0 ? d : -1))}]`
            + (maxBatchSize > 0 ? ' (without the batch dimension)' : ''));
        }
      }
    }
    t.dims = dims;
    if (t.label_filename && !labels?.has(t.name)) fail(m, `${field} '${t.name}': the labels of label_filename '${t.label_filename}' were not read`);
    return { name: t.name, datatype: datatype!, dims, reshape, optional: field === 'input' && t.optional === true, labels: labels?.get(t.name) ?? null };
  });
}

function versionPolicyOf(m: string, raw: RawConfig): VersionPolicy {
  const p = raw.version_policy;
  if (p === undefined) return { kind: 'latest', numVersions: 1 };
  const keys = Object.keys(p);
  if (keys.length !== 1) fail(m, 'version_policy must set exactly one of latest, all, specific');
  if (p.latest !== undefined) {
    const n = p.latest.num_versions ?? 1;
    if (!isInt(n) || n < 1) fail(m, 'version_policy.latest.num_versions must be a positive integer');
    return { kind: 'latest', numVersions: n };
  }
  if (p.all !== undefined) return { kind: 'all' };
  const versions: number[] = p.specific?.versions ?? [];
  if (versions.length === 0 || versions.some((v) => !isInt(v) || v < 1)) {
    fail(m, 'version_policy.specific.versions must list positive integers');
  }
  return { kind: 'specific', versions: [...new Set(versions)].sort((a, b) => a - b) };
}

function instanceGroupsOf(m: string, groups: RawConfig[], gpus: readonly number[], cudaProvider: boolean): InstanceGroup[] {
  const list = groups.length > 0 ? groups : [{}];
  return list.map((g, i) => {
    const name = g.name || `${m}_${i}`;
    const count = g.count ?? 1;
    if (!isInt(count) || count < 1) fail(m, `instance_group '${name}': count must be a positive integer`);
    const written: string = g.kind ?? 'KIND_AUTO';
    const listed: number[] = g.gpus ?? [];
    if (written !== 'KIND_AUTO' && written !== 'KIND_CPU' && written !== 'KIND_GPU') {
      fail(m, `instance_group '${name}': kind ${written} is not supported (use KIND_CPU, KIND_GPU or KIND_AUTO)`);
    }
    if (written === 'KIND_CPU' && listed.length > 0) fail(m, `instance_group '${name}': gpus may not be listed for KIND_CPU`);
    const decided = decideInstanceKind(written as 'KIND_AUTO' | 'KIND_CPU' | 'KIND_GPU', listed, { gpus, cudaProvider });
    if (decided.kind === 'error') fail(m, `instance_group '${name}': ${decided.message}`);
    // KIND_AUTO placed on the CPU keeps no GPU ids it listed: they name devices it does not use.
    if (decided.kind === 'KIND_CPU') return { name, kind: 'KIND_CPU', count, gpus: [] };
    for (const id of listed) {
      if (!gpus.includes(id)) fail(m, `instance_group '${name}': GPU ${id} is not available (found: ${gpus.join(', ')})`);
    }
    return { name, kind: 'KIND_GPU', count, gpus: listed.length > 0 ? [...listed] : [...gpus] };
  });
}

function threadParam(m: string, params: Record<string, string>, key: string): number | undefined {
  if (params[key] === undefined) return undefined;
  const n = Number(params[key]);
  if (!Number.isInteger(n) || n < 0) fail(m, `parameters.${key} must be a non-negative integer`);
  return n === 0 ? undefined : n;
}

function deepFreeze<T>(value: T): T {
  // Typed arrays (an initial state's bytes) cannot be frozen; nothing writes them.
  if (value && typeof value === 'object' && !ArrayBuffer.isView(value) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
