import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { autocompleteConfig, DEFAULT_MAX_BATCH_SIZE, type ModelIo } from '../../src/model-config/autocomplete-config.ts';
import type { RawConfig } from '../../src/model-config/model-config.ts';

const io = (inputs: ModelIo[], outputs: ModelIo[]) => ({ inputs, outputs });
/** A model like no_config: two FLOAT inputs ['batch', 4] and one output. */
const batchable = io(
  [{ name: 'INPUT0', elemType: 'FLOAT', shape: ['batch', 4] }, { name: 'INPUT1', elemType: 'FLOAT', shape: [null, 4] }],
  [{ name: 'OUTPUT0', elemType: 'FLOAT', shape: ['batch', 4] }],
);
/** A model like whole_shape: fixed [2, 3]. */
const fixed = io([{ name: 'INPUT0', elemType: 'FLOAT', shape: [2, 3] }], [{ name: 'OUTPUT0', elemType: 'FLOAT', shape: [2, 3] }]);

interface Case {
  readonly title: string;
  readonly raw: RawConfig;
  readonly model: { inputs: ModelIo[]; outputs: ModelIo[] };
  readonly expected: RawConfig;
}

const cases: Case[] = [
  {
    title: 'gives a model with a dynamic first dim everywhere max_batch_size 4 and dynamic batching',
    raw: {},
    model: batchable,
    expected: {
      name: 'm', platform: 'onnxruntime_onnx', backend: 'onnxruntime', max_batch_size: DEFAULT_MAX_BATCH_SIZE, dynamic_batching: {},
      input: [{ name: 'INPUT0', data_type: 'TYPE_FP32', dims: [4] }, { name: 'INPUT1', data_type: 'TYPE_FP32', dims: [4] }],
      output: [{ name: 'OUTPUT0', data_type: 'TYPE_FP32', dims: [4] }],
    },
  },
  {
    title: 'keeps an explicit max_batch_size 0 and then lists the full shapes, without dynamic batching',
    raw: { max_batch_size: 0 },
    model: batchable,
    expected: {
      name: 'm', platform: 'onnxruntime_onnx', backend: 'onnxruntime', max_batch_size: 0,
      input: [{ name: 'INPUT0', data_type: 'TYPE_FP32', dims: [-1, 4] }, { name: 'INPUT1', data_type: 'TYPE_FP32', dims: [-1, 4] }],
      output: [{ name: 'OUTPUT0', data_type: 'TYPE_FP32', dims: [-1, 4] }],
    },
  },
  {
    title: 'gives a model with a fixed first dim max_batch_size 0',
    raw: {},
    model: fixed,
    expected: {
      name: 'm', platform: 'onnxruntime_onnx', backend: 'onnxruntime', max_batch_size: 0,
      input: [{ name: 'INPUT0', data_type: 'TYPE_FP32', dims: [2, 3] }], output: [{ name: 'OUTPUT0', data_type: 'TYPE_FP32', dims: [2, 3] }],
    },
  },
  {
    title: 'completes the fields missing from listed inputs, keeps those given, and adds no other input',
    raw: { max_batch_size: 2, input: [{ name: 'INPUT1', dims: [-1] }] },
    model: batchable,
    expected: {
      name: 'm', platform: 'onnxruntime_onnx', backend: 'onnxruntime', max_batch_size: 2,
      input: [{ name: 'INPUT1', data_type: 'TYPE_FP32', dims: [-1] }],
      output: [{ name: 'OUTPUT0', data_type: 'TYPE_FP32', dims: [4] }],
    },
  },
  {
    title: 'leaves a listed tensor the model lacks for validation to name',
    raw: { input: [{ name: 'NOPE' }] },
    model: batchable,
    expected: {
      name: 'm', platform: 'onnxruntime_onnx', backend: 'onnxruntime', max_batch_size: 4, dynamic_batching: {},
      input: [{ name: 'NOPE' }], output: [{ name: 'OUTPUT0', data_type: 'TYPE_FP32', dims: [4] }],
    },
  },
  {
    title: 'keeps the name, sequence batching and a set data_type, and fills platform from the backend',
    raw: { name: 'given', backend: 'onnxruntime', sequence_batching: {}, output: [{ name: 'OUTPUT0', data_type: 'TYPE_FP16' }] },
    model: batchable,
    expected: {
      name: 'given', platform: 'onnxruntime_onnx', backend: 'onnxruntime', max_batch_size: 4, sequence_batching: {},
      input: [{ name: 'INPUT0', data_type: 'TYPE_FP32', dims: [4] }, { name: 'INPUT1', data_type: 'TYPE_FP32', dims: [4] }],
      output: [{ name: 'OUTPUT0', data_type: 'TYPE_FP16', dims: [4] }],
    },
  },
  {
    title: 'maps ONNX element types to TYPE_ names, STRING to TYPE_STRING',
    raw: { max_batch_size: 0 },
    model: io([{ name: 'S', elemType: 'STRING', shape: [3] }, { name: 'B', elemType: 'BOOL', shape: [1] }], [{ name: 'H', elemType: 'FLOAT16', shape: [1] }]),
    expected: {
      name: 'm', platform: 'onnxruntime_onnx', backend: 'onnxruntime', max_batch_size: 0,
      input: [{ name: 'S', data_type: 'TYPE_STRING', dims: [3] }, { name: 'B', data_type: 'TYPE_BOOL', dims: [1] }],
      output: [{ name: 'H', data_type: 'TYPE_FP16', dims: [1] }],
    },
  },
];

describe('autocompleteConfig', () => {
  for (const c of cases) {
    test(c.title, () => {
      assert.deepEqual(autocompleteConfig(c.raw, c.model, 'm'), c.expected);
    });
  }

  test('gives the same config when run again on its own output', () => {
    for (const c of cases) {
      assert.deepEqual(autocompleteConfig(autocompleteConfig(c.raw, c.model, 'm'), c.model, 'm'), c.expected, c.title);
    }
  });

  test('does not change the config it is given', () => {
    const raw: RawConfig = { input: [{ name: 'INPUT0' }] };
    autocompleteConfig(raw, batchable, 'm');
    assert.deepEqual(raw, { input: [{ name: 'INPUT0' }] });
  });

  test('does not batch a model whose outputs have no dims', () => {
    const scalarOut = io([{ name: 'I', elemType: 'FLOAT', shape: ['n'] }], [{ name: 'O', elemType: 'FLOAT', shape: [] }]);
    assert.equal(autocompleteConfig({}, scalarOut, 'm').max_batch_size, 0);
    const unknownShape = io([{ name: 'I', elemType: 'FLOAT', shape: null }], [{ name: 'O', elemType: 'FLOAT', shape: ['n'] }]);
    assert.equal(autocompleteConfig({}, unknownShape, 'm').max_batch_size, 0);
  });
});
