/**
 * Ensembles (`platform: "ensemble"` with `ensemble_scheduling { step [...] }`): the steps read
 * and checked on their own at normalize (normalizeEnsemble), then against the configs of the
 * models they name once those are read (checkEnsemble), as Triton checks an ensemble when it
 * loads it: unknown models, tensors no step or input provides, tensors produced twice, cycles.
 * Every message names the ensemble and the step.
 */
import { serverError } from '../errors.ts';
import type { ModelConfig, RawConfig } from './model-config.ts';

/** One step: a model, and which ensemble tensors feed its inputs and take its outputs. */
export interface EnsembleStep {
  readonly modelName: string;
  /** -1: the newest ready version. */
  readonly modelVersion: number;
  /** The step model's input name → the ensemble tensor that feeds it. */
  readonly inputMap: Readonly<Record<string, string>>;
  /** The step model's output name → the ensemble tensor it becomes. */
  readonly outputMap: Readonly<Record<string, string>>;
}

export interface Ensemble {
  readonly steps: readonly EnsembleStep[];
}

const fail = (model: string, what: string): never => {
  throw serverError('BAD_CONFIG', `ensemble '${model}': ${what}`);
};

const stepName = (k: number, step: { modelName: string }) => `step ${k} (model '${step.modelName}')`;

/** The ensemble_scheduling of ensemble `m`, checked on its own. */
export function normalizeEnsemble(m: string, raw: RawConfig): Ensemble {
  const scheduling = raw.ensemble_scheduling;
  if (scheduling === undefined) fail(m, 'platform "ensemble" needs ensemble_scheduling with at least one step');
  const list: RawConfig[] = scheduling.step ?? [];
  if (list.length === 0) fail(m, 'ensemble_scheduling must list at least one step');
  if ((scheduling.max_inflight_requests ?? 0) !== 0) {
    fail(m, 'ensemble_scheduling.max_inflight_requests is not supported yet (every step here answers each request once, so a step never holds more than one response of a request)');
  }
  for (const field of ['dynamic_batching', 'sequence_batching', 'instance_group', 'response_cache'] as const) {
    if (raw[field] !== undefined) fail(m, `${field} cannot be set on an ensemble: its steps are scheduled by their own models`);
  }
  const steps = list.map((s, k): EnsembleStep => {
    const where = `step ${k}`;
    if (typeof s.model_name !== 'string' || s.model_name === '') fail(m, `${where}: model_name must be set`);
    if (s.model_namespace) fail(m, `${where}: model_namespace is not supported`);
    const version = Number(s.model_version ?? -1);
    if (!Number.isInteger(version) || (version < 1 && version !== -1)) fail(m, `${where}: model_version must be -1 (the newest) or a version number`);
    const inputMap: Record<string, string> = { ...(s.input_map ?? {}) };
    const outputMap: Record<string, string> = { ...(s.output_map ?? {}) };
    if (Object.keys(inputMap).length === 0) fail(m, `${stepName(k, { modelName: s.model_name })}: input_map must map at least one input`);
    if (Object.keys(outputMap).length === 0) fail(m, `${stepName(k, { modelName: s.model_name })}: output_map must map at least one output`);
    return { modelName: s.model_name, modelVersion: version, inputMap, outputMap };
  });
  return { steps };
}

/**
 * Checks ensemble `config` against the models its steps name: `lookup(name)` gives a model's
 * config, or a string saying why there is none. Throws a BAD_CONFIG naming the step.
 */
export function checkEnsemble(config: ModelConfig, ensemble: Ensemble, lookup: (name: string) => ModelConfig | string): void {
  const m = config.name;
  const producer = new Map<string, number>(); // ensemble tensor → the step producing it (-1: an ensemble input)
  for (const input of config.inputs) producer.set(input.name, -1);
  ensemble.steps.forEach((step, k) => {
    const where = stepName(k, step);
    if (step.modelName === m) fail(m, `${where}: an ensemble cannot run itself`);
    const target = lookup(step.modelName);
    if (typeof target === 'string') fail(m, `${where}: ${target}`);
    const model = target as ModelConfig;
    if (model.decoupled) fail(m, `${where}: a decoupled model cannot be an ensemble step here`);
    for (const name of Object.keys(step.inputMap)) {
      if (!model.inputs.some((t) => t.name === name)) fail(m, `${where}: '${name}' is not an input of '${step.modelName}', whose inputs are: ${model.inputs.map((t) => t.name).join(', ')}`);
    }
    const missing = model.inputs.filter((t) => !t.optional && !(t.name in step.inputMap));
    if (missing.length > 0) fail(m, `${where}: input_map does not feed the input${missing.length > 1 ? 's' : ''} ${missing.map((t) => `'${t.name}'`).join(', ')}`);
    for (const [name, tensor] of Object.entries(step.outputMap)) {
      if (!model.outputs.some((t) => t.name === name)) fail(m, `${where}: '${name}' is not an output of '${step.modelName}', whose outputs are: ${model.outputs.map((t) => t.name).join(', ')}`);
      const other = producer.get(tensor);
      if (other !== undefined) fail(m, `${where}: tensor '${tensor}' is already ${other === -1 ? 'an input of the ensemble' : `the output of ${stepName(other, ensemble.steps[other])}`}`);
      producer.set(tensor, k);
    }
  });
  // Every tensor a step reads is an ensemble input or another step's output.
  ensemble.steps.forEach((step, k) => {
    for (const tensor of Object.values(step.inputMap)) {
      if (!producer.has(tensor)) fail(m, `${stepName(k, step)}: tensor '${tensor}' is neither an input of the ensemble nor the output of a step`);
    }
  });
  for (const output of config.outputs) {
    const k = producer.get(output.name);
    if (k === undefined || k === -1) fail(m, `output '${output.name}' is not the output of any step`);
  }
  // A cycle: steps that can never run because each waits, directly or not, on another of them.
  const done = new Set<string>(config.inputs.map((t) => t.name));
  const left = new Set(ensemble.steps.keys());
  let progress = true;
  while (left.size > 0 && progress) {
    progress = false;
    for (const k of left) {
      const step = ensemble.steps[k];
      if (Object.values(step.inputMap).every((t) => done.has(t))) {
        for (const t of Object.values(step.outputMap)) done.add(t);
        left.delete(k);
        progress = true;
      }
    }
  }
  if (left.size > 0) fail(m, `the steps ${[...left].map((k) => stepName(k, ensemble.steps[k])).join(', ')} form a cycle: each waits on another's output`);
}
