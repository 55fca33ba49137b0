import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ModelIo } from '../../src/model-config/autocomplete-config.ts';
import type { RawConfig } from '../../src/model-config/model-config.ts';
import { normalizeConfig, type NormalizeContext } from '../../src/model-config/normalize-config.ts';
import { instanceCount } from '../../src/repository/model-lifecycle.ts';

/** The io of the `simple` model: INT32 ['batch', 16] in and out. */
const io = {
  inputs: ['INPUT0', 'INPUT1'].map((name): ModelIo => ({ name, elemType: 'INT32', shape: ['batch', 16] })),
  outputs: ['OUTPUT0', 'OUTPUT1'].map((name): ModelIo => ({ name, elemType: 'INT32', shape: ['batch', 16] })),
};
const tensor = (name: string, fields: RawConfig = {}) => ({ name, data_type: 'TYPE_INT32', dims: [16], ...fields });
const base = (): RawConfig => ({
  name: 'm', platform: 'onnxruntime_onnx', backend: 'onnxruntime', max_batch_size: 8,
  input: [tensor('INPUT0'), tensor('INPUT1')], output: [tensor('OUTPUT0'), tensor('OUTPUT1')],
});
const ctx = (fields: Partial<NormalizeContext> = {}): NormalizeContext => ({ modelName: 'm', gpus: [], io, ...fields });
const withFields = (fields: RawConfig): RawConfig => ({ ...base(), ...fields });

describe('normalizeConfig refuses', () => {
  const refused: [string, RawConfig, RegExp, Partial<NormalizeContext>?][] = [
    ['a name that is not the directory name', withFields({ name: 'other' }), /^model 'm': config name 'other' does not match the model's directory name 'm'$/],
    ['a platform other than onnxruntime', withFields({ platform: 'tensorrt_plan', backend: 'tensorrt' }), /^model 'm': platform 'tensorrt_plan' \/ backend 'tensorrt' is not supported/],
    ['a negative max_batch_size', withFields({ max_batch_size: -1 }), /^model 'm': max_batch_size must be a non-negative integer$/],
    ['a data_type that differs from the model', withFields({ input: [tensor('INPUT0', { data_type: 'TYPE_FP32' }), tensor('INPUT1')] }), /^model 'm': input 'INPUT0': data_type TYPE_FP32 does not match the model's TYPE_INT32$/],
    ['a missing data_type', withFields({ output: [tensor('OUTPUT0', { data_type: undefined }), tensor('OUTPUT1')] }), /^model 'm': output 'OUTPUT0': data_type must be set to a TYPE_ value \(got 'none'\)$/],
    ['an input the model does not have', withFields({ input: [tensor('INPUT0'), tensor('NOPE')] }), /^model 'm': unexpected inference input 'NOPE', allowed inputs are: INPUT0, INPUT1$/],
    ['dims that do not match the model', withFields({ input: [tensor('INPUT0', { dims: [8] }), tensor('INPUT1')] }), /^model 'm': input 'INPUT0': dims \[8\] do not match the model's \[16\] \(without the batch dimension\)$/],
    ['dims of the wrong rank', withFields({ output: [tensor('OUTPUT0', { dims: [4, 4] }), tensor('OUTPUT1')] }), /^model 'm': output 'OUTPUT0': dims \[4,4\] do not match/],
    ['a zero dim', withFields({ input: [tensor('INPUT0', { dims: [0] }), tensor('INPUT1')] }), /^model 'm': input 'INPUT0': dims \[0\] must be positive integers or -1$/],
    ['a tensor listed twice', withFields({ input: [tensor('INPUT0'), tensor('INPUT0')] }), /^model 'm': input 'INPUT0' is listed more than once$/],
    ['a model with no inputs', withFields({ input: [] }), /^model 'm': the model has no inputs/],
    ['max_batch_size on a model whose first dim is fixed', withFields({ max_batch_size: 2 }), /^model 'm': input 'INPUT0': max_batch_size 2 needs a dynamic first dim in the model, which has 3$/,
      { io: { inputs: io.inputs.map((t) => ({ ...t, shape: [3, 16] })), outputs: io.outputs } }],
    ['a preferred batch size over max_batch_size', withFields({ dynamic_batching: { preferred_batch_size: [4, 16] } }), /^model 'm': dynamic_batching.preferred_batch_size 16 must be between 1 and max_batch_size 8$/],
    ['a negative queue delay', withFields({ dynamic_batching: { max_queue_delay_microseconds: -5 } }), /^model 'm': dynamic_batching.max_queue_delay_microseconds must be a non-negative integer$/],
    ['dynamic batching without max_batch_size', withFields({ max_batch_size: 0, dynamic_batching: {}, input: [tensor('INPUT0', { dims: [-1, 16] }), tensor('INPUT1', { dims: [-1, 16] })], output: [tensor('OUTPUT0', { dims: [-1, 16] }), tensor('OUTPUT1', { dims: [-1, 16] })] }), /^model 'm': dynamic_batching needs max_batch_size > 0$/],
    ['KIND_GPU on a machine without GPUs', withFields({ instance_group: [{ kind: 'KIND_GPU' }] }), /^model 'm': instance_group 'm_0': KIND_GPU needs a GPU, and none was found on this machine$/],
    ['a GPU id that is not present', withFields({ instance_group: [{ name: 'g', kind: 'KIND_GPU', gpus: [3] }] }), /^model 'm': instance_group 'g': GPU 3 is not available \(found: 0, 1\)$/, { gpus: [0, 1], cudaProvider: true }],
    ['KIND_GPU where the CUDA provider is missing', withFields({ instance_group: [{ kind: 'KIND_GPU' }] }), /^model 'm': instance_group 'm_0': KIND_GPU needs onnxruntime's CUDA execution provider, which is not installed here \(install it as docs\/install.md#gpu says, or use KIND_CPU or KIND_AUTO\)$/, { gpus: [0], cudaProvider: false }],
    ['gpus listed for KIND_CPU', withFields({ instance_group: [{ kind: 'KIND_CPU', gpus: [0] }] }), /^model 'm': instance_group 'm_0': gpus may not be listed for KIND_CPU$/],
    ['an instance count of 0', withFields({ instance_group: [{ kind: 'KIND_CPU', count: 0 }] }), /^model 'm': instance_group 'm_0': count must be a positive integer$/],
    ['a version_policy with two choices', withFields({ version_policy: { latest: {}, all: {} } }), /^model 'm': version_policy must set exactly one of latest, all, specific$/],
    ['a version_policy keeping no versions', withFields({ version_policy: { latest: { num_versions: 0 } } }), /^model 'm': version_policy.latest.num_versions must be a positive integer$/],
    ['a specific version_policy without versions', withFields({ version_policy: { specific: { versions: [] } } }), /^model 'm': version_policy.specific.versions must list positive integers$/],
    ['a thread count that is not a number', withFields({ parameters: { intra_op_thread_count: { string_value: 'many' } } }), /^model 'm': parameters.intra_op_thread_count must be a non-negative integer$/],
    ['iterative sequences', withFields({ sequence_batching: { iterative_sequence: true } }), /^model 'm': sequence_batching.iterative_sequence is not supported yet$/],
    ['dynamic and sequence batching both', withFields({ dynamic_batching: {}, sequence_batching: {} }), /^model 'm': dynamic_batching and sequence_batching cannot both be set$/],
  ];
  for (const [title, raw, message, context] of refused) {
    test(`${title}, naming the model and the field`, () => {
      assert.throws(() => normalizeConfig(raw, ctx(context)), { reason: 'BAD_CONFIG', httpStatus: 400, message });
    });
  }
});

describe('normalizeConfig', () => {
  test('gives one CPU instance group named <model>_0 and the latest version by default', () => {
    const config = normalizeConfig(base(), ctx());
    assert.deepEqual(config.instanceGroups, [{ name: 'm_0', kind: 'KIND_CPU', count: 1, gpus: [] }]);
    assert.deepEqual(config.versionPolicy, { kind: 'latest', numVersions: 1 });
    assert.deepEqual(config.raw.instance_group, [{ name: 'm_0', kind: 'KIND_CPU', count: 1, gpus: [] }]);
    assert.deepEqual(config.raw.version_policy, { latest: { num_versions: 1 } });
    assert.equal(config.defaultModelFilename, 'model.onnx');
  });

  test('fills the backend from the platform and the platform from the backend, as without auto-complete', () => {
    const fromPlatform = normalizeConfig(withFields({ backend: undefined }), ctx());
    assert.equal(fromPlatform.backend, 'onnxruntime');
    assert.equal(fromPlatform.raw.backend, 'onnxruntime');
    const fromBackend = normalizeConfig(withFields({ platform: undefined }), ctx());
    assert.equal(fromBackend.platform, 'onnxruntime_onnx');
    assert.throws(() => normalizeConfig(withFields({ platform: undefined, backend: undefined }), ctx()), { message: /platform '' \/ backend '' is not supported/ });
  });

  test('keeps a backend named alone for the backend registry to resolve at load, with no platform', () => {
    const config = normalizeConfig(withFields({ platform: undefined, backend: 'test_crash' }), ctx());
    assert.equal(config.backend, 'test_crash');
    assert.equal(config.platform, '');
  });

  test('refuses the onnxruntime platform with another backend', () => {
    assert.throws(() => normalizeConfig(withFields({ backend: 'test_crash' }), ctx()), { message: /^model 'm': platform 'onnxruntime_onnx' \/ backend 'test_crash' is not supported/ });
  });

  test('places KIND_AUTO on every GPU when there are GPUs and the CUDA provider, and on the CPU otherwise', () => {
    const raw = withFields({ instance_group: [{ count: 2 }] });
    assert.deepEqual(normalizeConfig(raw, ctx({ gpus: [0, 1], cudaProvider: true })).instanceGroups, [{ name: 'm_0', kind: 'KIND_GPU', count: 2, gpus: [0, 1] }]);
    assert.deepEqual(normalizeConfig(raw, ctx({ gpus: [0, 1], cudaProvider: false })).instanceGroups, [{ name: 'm_0', kind: 'KIND_CPU', count: 2, gpus: [] }]);
    assert.deepEqual(normalizeConfig(withFields({ instance_group: [{ kind: 'KIND_AUTO', gpus: [1] }] }), ctx({ gpus: [0, 1] })).instanceGroups, [{ name: 'm_0', kind: 'KIND_CPU', count: 1, gpus: [] }]);
    assert.deepEqual(normalizeConfig(raw, ctx()).instanceGroups, [{ name: 'm_0', kind: 'KIND_CPU', count: 2, gpus: [] }]);
  });

  test('takes thread counts from --backend-config where the parameters set none', () => {
    const byFlag = normalizeConfig(base(), ctx({ defaultIntraOpThreads: 2, defaultInterOpThreads: 3 }));
    assert.deepEqual([byFlag.intraOpThreads, byFlag.interOpThreads], [2, 3]);
    const byConfig = normalizeConfig(withFields({ parameters: { intra_op_thread_count: { string_value: '5' }, inter_op_thread_count: { string_value: '1' } } }), ctx({ defaultIntraOpThreads: 2, defaultInterOpThreads: 3 }));
    assert.deepEqual([byConfig.intraOpThreads, byConfig.interOpThreads], [5, 1]);
  });

  test('types the tensors: datatype info, dims without the batch dim, reshape and optional', () => {
    const config = normalizeConfig(withFields({ input: [tensor('INPUT0', { optional: true }), tensor('INPUT1', { reshape: { shape: [4, 4] }, dims: [2, 8] })] }),
      ctx({ io: null }));
    assert.equal(config.inputs[0].datatype.wire, 'INT32');
    assert.deepEqual(config.inputs[0].dims, [16]);
    assert.equal(config.inputs[0].optional, true);
    assert.deepEqual(config.inputs[1].reshape, [4, 4]);
    assert.equal(config.outputs[1].optional, false);
  });

  test('sorts and de-duplicates specific versions', () => {
    const config = normalizeConfig(withFields({ version_policy: { specific: { versions: [3, 1, 3] } } }), ctx());
    assert.deepEqual(config.versionPolicy, { kind: 'specific', versions: [1, 3] });
  });

  test('returns a frozen config that normalizes to itself from its own raw form', () => {
    const config = normalizeConfig(withFields({ dynamic_batching: { preferred_batch_size: [2, 4] }, instance_group: [{ count: 2, kind: 'KIND_CPU' }] }), ctx());
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.inputs[0].dims));
    assert.throws(() => { (config.raw as RawConfig).max_batch_size = 1; }, TypeError);
    assert.deepEqual(normalizeConfig(config.raw, ctx()), config);
  });
});

describe('runtime threads', () => {
  test('leave intra-op threads to the server unless parameters set intra_op_thread_count', () => {
    assert.equal(normalizeConfig(base(), ctx()).intraOpThreads, null);
    assert.equal(normalizeConfig(base(), ctx()).interOpThreads, 1);
    const set = normalizeConfig(withFields({ parameters: { intra_op_thread_count: { string_value: '3' }, inter_op_thread_count: { string_value: '2' } } }), ctx());
    assert.equal(set.intraOpThreads, 3);
    assert.equal(set.interOpThreads, 2);
    assert.deepEqual(set.parameters, { intra_op_thread_count: '3', inter_op_thread_count: '2' });
    const zero = normalizeConfig(withFields({ parameters: { intra_op_thread_count: { string_value: '0' } } }), ctx());
    assert.equal(zero.intraOpThreads, null);
  });

  test('count every instance of every selected version and group, among which the server shares the cores', () => {
    const config = normalizeConfig(withFields({ instance_group: [{ count: 2, kind: 'KIND_CPU' }, { count: 3, kind: 'KIND_GPU' }] }), ctx({ gpus: [0, 1], cudaProvider: true }));
    assert.equal(instanceCount({ name: 'm', dir: '/m', config, reason: '', selected: [1, 2] }), (2 + 3 * 2) * 2);
    assert.equal(instanceCount({ name: 'm', dir: '/m', config: null, reason: 'broken', selected: [] }), 0);
  });
});
