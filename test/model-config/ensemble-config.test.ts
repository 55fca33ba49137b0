import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ModelConfig, RawConfig } from '../../src/model-config/model-config.ts';
import { normalizeConfig } from '../../src/model-config/normalize-config.ts';
import { checkEnsemble } from '../../src/model-config/ensemble-config.ts';

const tensor = (name: string, fields: RawConfig = {}) => ({ name, data_type: 'TYPE_INT32', dims: [16], ...fields });
const step = (model: string, inputs: Record<string, string>, outputs: Record<string, string>, fields: RawConfig = {}) => ({ model_name: model, model_version: -1, input_map: inputs, output_map: outputs, ...fields });

/** `simple`: INPUT0, INPUT1 → OUTPUT0 (sum), OUTPUT1 (difference). */
const simple = normalizeConfig({
  name: 'simple', platform: 'onnxruntime_onnx', max_batch_size: 8,
  input: [tensor('INPUT0'), tensor('INPUT1')], output: [tensor('OUTPUT0'), tensor('OUTPUT1')],
}, { modelName: 'simple', gpus: [], io: null });

const ensemble = (steps: RawConfig[], fields: RawConfig = {}): RawConfig => ({
  name: 'e', platform: 'ensemble', max_batch_size: 8,
  input: [tensor('A'), tensor('B')], output: [tensor('OUT')],
  ensemble_scheduling: { step: steps }, ...fields,
});
const normalize = (raw: RawConfig): ModelConfig => normalizeConfig(raw, { modelName: 'e', gpus: [], io: null });
/** A decoupled JavaScript model with simple's io. */
const streaming = normalizeConfig({
  name: 'streaming', backend: 'javascript', max_batch_size: 8, model_transaction_policy: { decoupled: true },
  input: [tensor('INPUT0'), tensor('INPUT1')], output: [tensor('OUTPUT0'), tensor('OUTPUT1')],
}, { modelName: 'streaming', gpus: [], io: null });
const lookup = (name: string): ModelConfig | string => (name === 'simple' ? simple : name === 'streaming' ? streaming : name === 'broken' ? "model 'broken' failed to load: bad dims" : `model '${name}' is not in the model repository`);
const check = (raw: RawConfig) => {
  const config = normalize(raw);
  checkEnsemble(config, config.ensemble!, lookup);
  return config;
};

const sum = step('simple', { INPUT0: 'A', INPUT1: 'B' }, { OUTPUT0: 'OUT' });

describe('an ensemble config', () => {
  test('loads with its steps: -1 is the newest version, and it has no instances', () => {
    const config = check(ensemble([sum]));
    assert.deepEqual(config.ensemble, { steps: [{ modelName: 'simple', modelVersion: -1, inputMap: { INPUT0: 'A', INPUT1: 'B' }, outputMap: { OUTPUT0: 'OUT' } }] });
    assert.deepEqual(config.instanceGroups, []);
    assert.equal(config.backend, '');
  });

  const refused: [string, RawConfig, RegExp][] = [
    ['no ensemble_scheduling', ensemble([], { ensemble_scheduling: undefined }), /^ensemble 'e': platform "ensemble" needs ensemble_scheduling with at least one step$/],
    ['a step without a model', ensemble([step('', { INPUT0: 'A' }, { OUTPUT0: 'OUT' })]), /^ensemble 'e': step 0: model_name must be set$/],
    ['a step with no output_map', ensemble([step('simple', { INPUT0: 'A', INPUT1: 'B' }, {})]), /^ensemble 'e': step 0 \(model 'simple'\): output_map must map at least one output$/],
    ['max_inflight_requests', ensemble([sum], { ensemble_scheduling: { step: [sum], max_inflight_requests: 4 } }), /^ensemble 'e': ensemble_scheduling\.max_inflight_requests is not supported yet/],
    ['dynamic_batching on the ensemble', ensemble([sum], { dynamic_batching: {} }), /^ensemble 'e': dynamic_batching cannot be set on an ensemble/],
    ['a backend on the ensemble', ensemble([sum], { backend: 'onnxruntime' }), /^model 'e': platform "ensemble" takes no backend \(got 'onnxruntime'\)$/],
  ];
  for (const [name, raw, error] of refused) {
    test(`refuses ${name}`, () => {
      assert.throws(() => normalize(raw), { message: error });
    });
  }

  const wrong: [string, RawConfig[], RegExp][] = [
    ['an unknown model', [step('nope', { X: 'A' }, { Y: 'OUT' })], /^ensemble 'e': step 0 \(model 'nope'\): model 'nope' is not in the model repository$/],
    ['a model that failed to load', [step('broken', { X: 'A' }, { Y: 'OUT' })], /^ensemble 'e': step 0 \(model 'broken'\): model 'broken' failed to load: bad dims$/],
    ['an input the step model does not have', [step('simple', { INPUT0: 'A', INPUT9: 'B' }, { OUTPUT0: 'OUT' })], /^ensemble 'e': step 0 \(model 'simple'\): 'INPUT9' is not an input of 'simple', whose inputs are: INPUT0, INPUT1$/],
    ['a step input left unfed', [step('simple', { INPUT0: 'A' }, { OUTPUT0: 'OUT' })], /^ensemble 'e': step 0 \(model 'simple'\): input_map does not feed the input 'INPUT1'$/],
    ['an output the step model does not have', [step('simple', { INPUT0: 'A', INPUT1: 'B' }, { OUTPUT7: 'OUT' })], /^ensemble 'e': step 0 \(model 'simple'\): 'OUTPUT7' is not an output of 'simple'/],
    ['a tensor no input or step provides', [step('simple', { INPUT0: 'A', INPUT1: 'MISSING' }, { OUTPUT0: 'OUT' })], /^ensemble 'e': step 0 \(model 'simple'\): tensor 'MISSING' is neither an input of the ensemble nor the output of a step$/],
    ['a tensor two steps produce', [sum, step('simple', { INPUT0: 'A', INPUT1: 'B' }, { OUTPUT1: 'OUT' })], /^ensemble 'e': step 1 \(model 'simple'\): tensor 'OUT' is already the output of step 0 \(model 'simple'\)$/],
    ['an ensemble output no step produces', [step('simple', { INPUT0: 'A', INPUT1: 'B' }, { OUTPUT0: 'OTHER' })], /^ensemble 'e': output 'OUT' is not the output of any step$/],
    ['a cycle', [
      step('simple', { INPUT0: 'A', INPUT1: 'Y' }, { OUTPUT0: 'X' }),
      step('simple', { INPUT0: 'X', INPUT1: 'B' }, { OUTPUT0: 'Y', OUTPUT1: 'OUT' }),
    ], /^ensemble 'e': the steps step 0 \(model 'simple'\), step 1 \(model 'simple'\) form a cycle: each waits on another's output$/],
    ['a decoupled step', [step('streaming', { INPUT0: 'A', INPUT1: 'B' }, { OUTPUT0: 'OUT' })], /^ensemble 'e': step 0 \(model 'streaming'\): a decoupled model cannot be an ensemble step here$/],
    ['itself as a step', [step('e', { A: 'A' }, { OUT: 'OUT' })], /^ensemble 'e': step 0 \(model 'e'\): an ensemble cannot run itself$/],
  ];
  for (const [name, steps, error] of wrong) {
    test(`fails the load of ${name}, naming the step`, () => {
      assert.throws(() => check(ensemble(steps)), { message: error });
    });
  }
});
