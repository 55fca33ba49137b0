import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import { lookupType, modelConfigType, toTritonJson } from '../../src/model-config/model-config-schema.ts';

describe('the ModelConfig schema', () => {
  it('is loaded once and shared', () => {
    assert.equal(modelConfigType(), modelConfigType());
    assert.equal(modelConfigType().fullName, '.inference.ModelConfig');
    assert.equal(lookupType('ModelInput'), lookupType('inference.ModelInput'));
  });

  it("keeps Triton's field numbers, types and oneofs", () => {
    // [type, field, number, type name, rule]
    const facts: Array<[string, string, number, string, string?]> = [
      ['ModelConfig', 'name', 1, 'string'],
      ['ModelConfig', 'version_policy', 3, 'ModelVersionPolicy'],
      ['ModelConfig', 'max_batch_size', 4, 'int32'],
      ['ModelConfig', 'input', 5, 'ModelInput', 'repeated'],
      ['ModelConfig', 'instance_group', 7, 'ModelInstanceGroup', 'repeated'],
      ['ModelConfig', 'dynamic_batching', 11, 'ModelDynamicBatching'],
      ['ModelConfig', 'parameters', 14, 'ModelParameter', 'map'],
      ['ModelConfig', 'backend', 17, 'string'],
      ['ModelConfig', 'batch_output', 21, 'BatchOutput', 'repeated'],
      ['ModelConfig', 'response_cache', 24, 'ModelResponseCache'],
      ['ModelConfig', 'runtime', 25, 'string'],
      ['ModelConfig', 'model_metrics', 26, 'ModelMetrics'],
      ['ModelInput', 'dims', 4, 'int64', 'repeated'],
      ['ModelInput', 'is_non_linear_format_io', 9, 'bool'],
      ['ModelOutput', 'label_filename', 4, 'string'],
      ['ModelOutput', 'reshape', 5, 'ModelTensorReshape'],
      ['ModelInstanceGroup', 'kind', 4, 'Kind'],
      ['ModelInstanceGroup', 'secondary_devices', 8, 'SecondaryDevice', 'repeated'],
      ['ModelDynamicBatching', 'priority_queue_policy', 7, 'ModelQueuePolicy', 'map'],
      ['ModelSequenceBatching', 'oldest', 4, 'StrategyOldest'],
      ['ModelSequenceBatching.Control', 'bool_false_true', 5, 'bool', 'repeated'],
      ['ModelWarmup', 'inputs', 3, 'Input', 'map'],
      ['ModelOptimizationPolicy', 'eager_batching', 8, 'bool'],
    ];
    for (const [typeName, fieldName, id, fieldType, rule] of facts) {
      const field = lookupType(typeName).fields[fieldName];
      assert.ok(field, `${typeName}.${fieldName} exists`);
      assert.deepStrictEqual(
        [field.id, field.type, field.repeated ? 'repeated' : field.map ? 'map' : undefined],
        [id, fieldType, rule],
        `${typeName}.${fieldName}`,
      );
    }
    const oneofs = (name: string): Record<string, string[]> =>
      Object.fromEntries(lookupType(name).oneofsArray.map((o) => [o.name, o.oneof]));
    assert.deepStrictEqual(oneofs('ModelConfig'), {
      scheduling_choice: ['dynamic_batching', 'sequence_batching', 'ensemble_scheduling'],
    });
    assert.deepStrictEqual(oneofs('ModelVersionPolicy'), { policy_choice: ['latest', 'all', 'specific'] });
    assert.deepStrictEqual(oneofs('ModelWarmup.Input'), { input_data_type: ['zero_data', 'random_data', 'input_data_file'] });
    const priorityQueuePolicy = lookupType('ModelDynamicBatching').fields.priority_queue_policy;
    assert.ok(priorityQueuePolicy instanceof protobuf.MapField);
    assert.equal(priorityQueuePolicy.keyType, 'uint64');
  });

  it("keeps Triton's enum values", () => {
    const root = modelConfigType().root;
    const values = (name: string): Record<string, number> => ({ ...root.lookupEnum(name).values });
    assert.deepStrictEqual(values('inference.DataType'), {
      TYPE_INVALID: 0, TYPE_BOOL: 1, TYPE_UINT8: 2, TYPE_UINT16: 3, TYPE_UINT32: 4, TYPE_UINT64: 5,
      TYPE_INT8: 6, TYPE_INT16: 7, TYPE_INT32: 8, TYPE_INT64: 9, TYPE_FP16: 10, TYPE_FP32: 11,
      TYPE_FP64: 12, TYPE_STRING: 13, TYPE_BF16: 14,
    });
    assert.deepStrictEqual(values('inference.ModelInstanceGroup.Kind'), { KIND_AUTO: 0, KIND_GPU: 1, KIND_CPU: 2, KIND_MODEL: 3 });
    assert.deepStrictEqual(values('inference.ModelInput.Format'), { FORMAT_NONE: 0, FORMAT_NHWC: 1, FORMAT_NCHW: 2 });
    assert.deepStrictEqual(values('inference.ModelQueuePolicy.TimeoutAction'), { REJECT: 0, DELAY: 1 });
    assert.deepStrictEqual(values('inference.BatchInput.Kind'), {
      BATCH_ELEMENT_COUNT: 0, BATCH_ACCUMULATED_ELEMENT_COUNT: 1, BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO: 2,
      BATCH_MAX_ELEMENT_COUNT_AS_SHAPE: 3, BATCH_ITEM_SHAPE: 4, BATCH_ITEM_SHAPE_FLATTEN: 5,
    });
  });

  it('encodes a config on the wire with the field numbers of Triton', () => {
    const type = modelConfigType();
    const bytes = type.encode(type.fromObject({ max_batch_size: 8, backend: 'onnxruntime' })).finish();
    // Field 4 varint 8 (tag 0x20), then field 17 length-delimited (tag 0x8a 0x01).
    assert.deepStrictEqual([...bytes.subarray(0, 4)], [0x20, 8, 0x8a, 0x01]);
  });
});

describe('toTritonJson', () => {
  const simple = {
    name: 'simple',
    max_batch_size: 8,
    input: [{ name: 'INPUT0', data_type: 'TYPE_INT32', dims: [16] }],
    dynamic_batching: { preferred_batch_size: [4, 8], max_queue_delay_microseconds: 100 },
    instance_group: [{ count: 2, kind: 'KIND_CPU' }],
    parameters: { mode: { string_value: 'parallel' } },
  };

  it("prints Triton's fixed int64 fields and int32 values as numbers, enums as names", () => {
    const json = toTritonJson(simple);
    const input = (json.input as Array<Record<string, unknown>>)[0];
    assert.deepStrictEqual(input.dims, [16]);
    assert.equal(input.data_type, 'TYPE_INT32');
    assert.equal(input.format, 'FORMAT_NONE');
    assert.equal(json.max_batch_size, 8);
    assert.deepStrictEqual(json.dynamic_batching, {
      preferred_batch_size: [4, 8],
      max_queue_delay_microseconds: 100,
      preserve_ordering: false,
      priority_levels: 0,
      default_priority_level: 0,
      priority_queue_policy: {},
    });
  });

  it('prints every primitive, repeated and map field with its default', () => {
    const json = toTritonJson({});
    assert.deepStrictEqual(json, {
      name: '',
      platform: '',
      backend: '',
      runtime: '',
      max_batch_size: 0,
      input: [],
      output: [],
      batch_input: [],
      batch_output: [],
      instance_group: [],
      default_model_filename: '',
      cc_model_filenames: {},
      metric_tags: {},
      parameters: {},
      model_warmup: [],
    });
  });

  it('leaves out unset sub-messages and unset oneof members', () => {
    const json = toTritonJson(simple);
    for (const key of ['version_policy', 'optimization', 'sequence_batching', 'ensemble_scheduling', 'model_operations', 'response_cache', 'model_metrics']) {
      assert.equal(key in json, false, key);
    }
    assert.equal('default_queue_policy' in (json.dynamic_batching as object), false);
    const warmup = toTritonJson({ model_warmup: [{ inputs: { IN: { data_type: 'TYPE_FP32', dims: [1], zero_data: true } } }] });
    const input = ((warmup.model_warmup as Array<Record<string, unknown>>)[0].inputs as Record<string, unknown>).IN;
    assert.deepStrictEqual(input, { data_type: 'TYPE_FP32', dims: [1], zero_data: true });
  });

  it('prints set empty sub-messages and map values with their defaults', () => {
    const json = toTritonJson({ version_policy: { all: {} }, parameters: { k: {} } });
    assert.deepStrictEqual(json.version_policy, { all: {} });
    assert.deepStrictEqual(json.parameters, { k: { string_value: '' } });
  });

  it("orders keys as Triton's schema declares them", () => {
    const keys = Object.keys(toTritonJson(simple));
    assert.deepStrictEqual(keys.slice(0, 6), ['name', 'platform', 'backend', 'runtime', 'max_batch_size', 'input']);
    assert.deepStrictEqual(Object.keys((toTritonJson(simple).instance_group as object[])[0]), [
      'name', 'kind', 'count', 'gpus', 'secondary_devices', 'profile', 'passive', 'host_policy',
    ]);
  });

  it('prints uint64 map keys, negative int64 values and special floats as proto3 JSON does', () => {
    const json = toTritonJson({
      input: [{ dims: [-1, 3] }],
      dynamic_batching: { priority_queue_policy: { 2: { max_queue_size: 4 } } },
      model_metrics: { metric_control: [{ histogram_options: { buckets: [0.5, Infinity, NaN] } }] },
    });
    assert.deepStrictEqual((json.input as Array<Record<string, unknown>>)[0].dims, [-1, 3]);
    const policy = (json.dynamic_batching as Record<string, Record<string, unknown>>).priority_queue_policy;
    assert.deepStrictEqual(Object.keys(policy), ['2']);
    const control = (json.model_metrics as Record<string, Array<Record<string, Record<string, unknown>>>>).metric_control[0];
    assert.deepStrictEqual(control.histogram_options.buckets, [0.5, 'Infinity', 'NaN']);
  });

  it("prints as numbers exactly the int64 fields Triton's ModelConfigToJson fixes, the others as strings", () => {
    const json = toTritonJson({
      input: [{ name: 'I', dims: [-1, 4], reshape: { shape: [2, 2] } }],
      output: [{ name: 'O', dims: [9007199254740991] }],
      version_policy: { specific: { versions: [1, 3] } },
      dynamic_batching: {
        max_queue_delay_microseconds: 7, priority_levels: 2, default_priority_level: 1,
        default_queue_policy: { default_timeout_microseconds: 5 },
        priority_queue_policy: { 1: { default_timeout_microseconds: 6 }, 2: { max_queue_size: 3 } },
      },
      model_warmup: [{ name: 'w', inputs: { I: { dims: [4], zero_data: true } } }],
      instance_group: [{ secondary_devices: [{ device_id: 12 }] }],
    }) as Record<string, any>;
    assert.deepStrictEqual(json.input[0].dims, [-1, 4]);
    assert.deepStrictEqual(json.input[0].reshape, { shape: [2, 2] });
    assert.deepStrictEqual(json.output[0].dims, [9007199254740991]);
    assert.deepStrictEqual(json.version_policy, { specific: { versions: [1, 3] } });
    const db = json.dynamic_batching;
    assert.deepStrictEqual([db.max_queue_delay_microseconds, db.priority_levels, db.default_priority_level], [7, 2, 1]);
    assert.equal(db.default_queue_policy.default_timeout_microseconds, 5);
    assert.equal(db.priority_queue_policy['1'].default_timeout_microseconds, 6);
    assert.equal(db.priority_queue_policy['2'].default_timeout_microseconds, 0);
    assert.deepStrictEqual(json.model_warmup[0].inputs.I.dims, [4]);
    // An int64 Triton does not fix stays a proto3 JSON string.
    assert.equal(json.instance_group[0].secondary_devices[0].device_id, '12');

    const state = [{ input_name: 'S_IN', output_name: 'S_OUT', dims: [1, 2], initial_state: [{ name: 'z', dims: [1, 2], zero_data: true }] }];
    const direct = toTritonJson({ sequence_batching: { max_sequence_idle_microseconds: 8, direct: { max_queue_delay_microseconds: 9 }, state } }) as Record<string, any>;
    assert.equal(direct.sequence_batching.max_sequence_idle_microseconds, 8);
    assert.equal(direct.sequence_batching.direct.max_queue_delay_microseconds, 9);
    assert.deepStrictEqual(direct.sequence_batching.state[0].dims, [1, 2]);
    // Triton looks for initial_state beside state, not in it, so these stay strings there too.
    assert.deepStrictEqual(direct.sequence_batching.state[0].initial_state[0].dims, ['1', '2']);
    const oldest = toTritonJson({ sequence_batching: { oldest: { max_queue_delay_microseconds: 10 } } }) as Record<string, any>;
    assert.equal(oldest.sequence_batching.oldest.max_queue_delay_microseconds, 10);
    const ensemble = toTritonJson({ ensemble_scheduling: { step: [{ model_name: 'm', model_version: -1 }] } }) as Record<string, any>;
    assert.equal(ensemble.ensemble_scheduling.step[0].model_version, -1);
  });

  it('rejects objects that do not fit the schema, naming the field', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ foo: 1 }, /^foo: unknown field of inference\.ModelConfig$/],
      [{ input: [{ data_type: 'TYPE_BOGUS' }] }, /^input\[0\]\.data_type: invalid value TYPE_BOGUS for inference\.DataType field$/],
      [{ max_batch_size: '8' }, /^max_batch_size: invalid value 8 for int32 field$/],
      [{ input: {} }, /^input: expected an array$/],
      [{ parameters: { k: { string_value: 1 } } }, /^parameters\["k"\]\.string_value: invalid value 1 for string field$/],
      [{ dynamic_batching: 5 }, /^dynamic_batching: expected an object for inference\.ModelDynamicBatching$/],
    ];
    for (const [config, message] of cases) {
      assert.throws(() => toTritonJson(config), (err: unknown) => err instanceof TypeError && message.test(err.message));
    }
  });

  it('converts other message types when given one', () => {
    assert.deepStrictEqual(toTritonJson({ shape: [2, 3] }, lookupType('ModelTensorReshape')), { shape: ['2', '3'] });
  });
});
