import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { autocompleteConfig, type ModelIo } from '../../src/model-config/autocomplete-config.ts';
import type { RawConfig } from '../../src/model-config/model-config.ts';
import { normalizeConfig } from '../../src/model-config/normalize-config.ts';
import { normalizeSequenceBatching } from '../../src/model-config/sequence-batching-config.ts';

const control = (name: string, kind: string, fields: RawConfig = { int32_false_true: [0, 1] }) => ({ name, control: [{ kind, ...fields }] });

describe('normalizeSequenceBatching', () => {
  test("reads the controls in their forms, with Triton's defaults", () => {
    const s = normalizeSequenceBatching('m', {
      control_input: [
        control('S', 'CONTROL_SEQUENCE_START', { fp32_false_true: [0, 1.5] }),
        control('E', 'CONTROL_SEQUENCE_END', { bool_false_true: [false, true] }),
        control('R', 'CONTROL_SEQUENCE_READY', { int32_false_true: [-1, 7] }),
        control('C', 'CONTROL_SEQUENCE_CORRID', { data_type: 'TYPE_STRING' }),
      ],
    }, 8);
    assert.equal(s.strategy, 'direct');
    assert.equal(s.maxSequenceIdleUs, 1_000_000);
    assert.deepEqual([s.start!.tensor.datatype.wire, s.start!.falseValue, s.start!.trueValue], ['FP32', 0, 1.5]);
    assert.deepEqual([s.end!.tensor.datatype.wire, s.end!.falseValue, s.end!.trueValue], ['BOOL', 0, 1]);
    assert.deepEqual([s.ready!.tensor.datatype.wire, s.ready!.falseValue, s.ready!.trueValue], ['INT32', -1, 7]);
    assert.equal(s.corrid!.datatype.wire, 'BYTES');
    assert.deepEqual(s.controlTensors.map((t) => t.name), ['S', 'E', 'R', 'C']);
  });

  test('reads implicit state: zeros of the dims by default (-1 taken as 1), zeros or a file of initial_state', () => {
    const s = normalizeSequenceBatching('m', {
      state: [
        { input_name: 'IN_A', output_name: 'OUT_A', data_type: 'TYPE_FP32', dims: [-1, 2] },
        { input_name: 'IN_B', output_name: 'OUT_B', data_type: 'TYPE_INT32', dims: [2], initial_state: [{ data_type: 'TYPE_INT32', dims: [2], data_file: 'f' }] },
      ],
    }, 8, new Map([['f', Uint8Array.of(1, 0, 0, 0, 2, 0, 0, 0)]]));
    assert.deepEqual(s.states.map((x) => [x.input.name, x.output.name, x.initialShape, Array.from(x.initialBytes)]), [
      ['IN_A', 'OUT_A', [1, 2], [0, 0, 0, 0, 0, 0, 0, 0]],
      ['IN_B', 'OUT_B', [2], [1, 0, 0, 0, 2, 0, 0, 0]],
    ]);
    assert.throws(() => normalizeSequenceBatching('m', { state: [{ input_name: 'a', output_name: 'b', data_type: 'TYPE_INT32', dims: [2], initial_state: [{ dims: [2], data_file: 'f' }] }] }, 8, new Map([['f', Uint8Array.of(1)]])),
      /data_file 'f' holds 1 bytes, and dims \[2\] of TYPE_INT32 need 8/);
  });

  test('reads the oldest strategy', () => {
    const s = normalizeSequenceBatching('m', { max_sequence_idle_microseconds: 5000, oldest: { max_candidate_sequences: 4, preferred_batch_size: [4, 2], max_queue_delay_microseconds: 100 } }, 8);
    assert.deepEqual([s.strategy, s.maxSequenceIdleUs, s.maxCandidateSequences, s.preferredBatchSizes, s.maxQueueDelayUs], ['oldest', 5000, 4, [2, 4], 100]);
  });

  const refused: [string, RawConfig, RegExp][] = [
    ['a state without its input name', { state: [{ output_name: 'b', data_type: 'TYPE_INT32', dims: [1] }] }, /sequence_batching.state\[0\].input_name must be set/],
    ['a BYTES state', { state: [{ input_name: 'a', output_name: 'b', data_type: 'TYPE_STRING', dims: [1] }] }, /state\[0\].data_type must be a numeric TYPE_ value/],
    ['a state without dims', { state: [{ input_name: 'a', output_name: 'b', data_type: 'TYPE_INT32' }] }, /state\[0\].dims \[\] must be positive integers or -1/],
    ['an initial state with neither zeros nor a file', { state: [{ input_name: 'a', output_name: 'b', data_type: 'TYPE_INT32', dims: [2], initial_state: [{ dims: [2] }] }] }, /initial_state must set zero_data: true or a data_file/],
    ['an initial state of other dims', { state: [{ input_name: 'a', output_name: 'b', data_type: 'TYPE_INT32', dims: [2], initial_state: [{ dims: [3], zero_data: true }] }] }, /initial_state.dims \[3\] do not fit the state's dims \[2\]/],
    ['a state input that is also a control', { control_input: [control('a', 'CONTROL_SEQUENCE_START')], state: [{ input_name: 'a', output_name: 'b', data_type: 'TYPE_INT32', dims: [1] }] }, /state input 'a' is also a control tensor/],
    ['iterative sequences', { iterative_sequence: true }, /iterative_sequence is not supported yet/],
    ['a control without a name', { control_input: [control('', 'CONTROL_SEQUENCE_START')] }, /sequence batching control tensor must have a name for m/],
    ['a tensor named twice', { control_input: [control('S', 'CONTROL_SEQUENCE_START'), control('S', 'CONTROL_SEQUENCE_END')] }, /control tensor 'S' is specified for multiple control kinds for m/],
    ['two START controls', { control_input: [control('A', 'CONTROL_SEQUENCE_START'), control('B', 'CONTROL_SEQUENCE_START')] }, /specifies multiple CONTROL_SEQUENCE_START tensors for m/],
    ['a flag without values', { control_input: [control('S', 'CONTROL_SEQUENCE_START', {})] }, /must specify either 'int32_false_true', 'fp32_false_true' or 'bool_false_true' for CONTROL_SEQUENCE_START for m/],
    ['a flag with two forms', { control_input: [control('S', 'CONTROL_SEQUENCE_START', { int32_false_true: [0, 1], fp32_false_true: [0, 1] })] }, /specifies more than one from/],
    ['a pair of three', { control_input: [control('S', 'CONTROL_SEQUENCE_READY', { int32_false_true: [0, 1, 2] })] }, /'int32_false_true' must have exactly 2 entries for CONTROL_SEQUENCE_READY for m/],
    ['a CORRID of another type', { control_input: [control('C', 'CONTROL_SEQUENCE_CORRID', { data_type: 'TYPE_FP32' })] }, /data_type of TYPE_UINT64, TYPE_INT64, TYPE_UINT32, TYPE_INT32 or TYPE_STRING/],
    ['oldest without candidates', { oldest: {} }, /max_candidate_sequences must be a positive integer/],
    ['a preferred size over max_batch_size', { oldest: { max_candidate_sequences: 2, preferred_batch_size: [16] } }, /preferred batch size must be <= max batch size for m/],
    ['oldest with preserve_ordering', { oldest: { max_candidate_sequences: 2, preserve_ordering: true } }, /preserve_ordering is not supported yet/],
    ['a slot utilization over 1', { direct: { minimum_slot_utilization: 2 } }, /minimum slot utilization must be in range/],
  ];
  for (const [title, raw, message] of refused) {
    test(`refuses ${title}`, () => assert.throws(() => normalizeSequenceBatching('m', raw, 8), { message }));
  }
});

describe('a sequence model config', () => {
  const io = {
    inputs: ['INPUT', 'START', 'READY'].map((name): ModelIo => ({ name, elemType: 'INT32', shape: ['batch', 1] })),
    outputs: [{ name: 'OUTPUT', elemType: 'INT32', shape: ['batch', 1] }],
  };
  const raw = (fields: RawConfig = {}): RawConfig => ({
    name: 'm', max_batch_size: 8,
    sequence_batching: { control_input: [control('START', 'CONTROL_SEQUENCE_START'), control('READY', 'CONTROL_SEQUENCE_READY')] },
    ...fields,
  });
  const ctx = { modelName: 'm', gpus: [], io };

  test('leaves the control tensors out of the completed inputs: the server feeds them', () => {
    const config = normalizeConfig(autocompleteConfig(raw(), io, 'm'), ctx);
    assert.deepEqual(config.inputs.map((t) => t.name), ['INPUT']);
    assert.deepEqual(config.sequenceBatching!.controlTensors.map((t) => t.name), ['START', 'READY']);
    assert.equal(config.dynamicBatching, null);
  });

  test('refuses a control tensor the model does not have, or of another type', () => {
    const missing = raw({ sequence_batching: { control_input: [control('GO', 'CONTROL_SEQUENCE_START')] } });
    assert.throws(() => normalizeConfig(autocompleteConfig(missing, io, 'm'), ctx), /control tensor 'GO' is not an input of the model/);
    const typed = raw({ sequence_batching: { control_input: [control('START', 'CONTROL_SEQUENCE_START', { fp32_false_true: [0, 1] })] } });
    assert.throws(() => normalizeConfig(autocompleteConfig(typed, io, 'm'), ctx), /control tensor 'START': data type TYPE_FP32 does not match the model's TYPE_INT32/);
  });

  test("refuses the response cache on a sequence model, with Triton's message", () => {
    assert.throws(() => normalizeConfig(autocompleteConfig(raw({ response_cache: { enable: true } }), io, 'm'), ctx),
      /Response Cache does not currently support model m with sequence batching scheduler\. Please disable the response cache\./);
  });
});
