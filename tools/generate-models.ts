// Generates the example model repository (model_repository/) and the test
// fixtures (test/fixtures/models/): a config.pbtxt in Triton's protobuf text
// format plus <version>/model.onnx written by our own ONNX writer (or, for a
// JavaScript model, <version>/model.js).
//
// `npm run models` runs this file. Output is deterministic: every run writes
// the same bytes.

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { onnxTypeCode, writeModel, type NodeSpec, type OnnxElemType, type ValueSpec } from './onnx-writer.ts';

const PROJECT_ROOT = fileURLToPath(new URL('../', import.meta.url));
export const DEFAULT_REPO_DIR = join(PROJECT_ROOT, 'model_repository');
export const DEFAULT_FIXTURES_DIR = join(PROJECT_ROOT, 'test', 'fixtures', 'models');
/** Models for Triton's client examples (`npm start -- --model-repository examples/model_repository`). */
export const DEFAULT_EXAMPLES_DIR = join(PROJECT_ROOT, 'examples', 'model_repository');

/** One model directory to write: files relative to the model directory. */
export interface GeneratedModel {
  /** 'repo' = model_repository/, 'fixtures' = test/fixtures/models/, 'examples' = examples/model_repository/. */
  target: 'repo' | 'fixtures' | 'examples';
  name: string;
  files: { path: string; content: Uint8Array | string }[];
}

// ---------------------------------------------------------------------------
// config.pbtxt text

interface ConfigTensor {
  name: string;
  dataType: string; // e.g. 'TYPE_FP32'
  dims: number[];
  optional?: boolean;
}

interface ConfigSpec {
  name: string;
  /** A backend named alone (`backend: "javascript"`); absent: platform onnxruntime_onnx. */
  backend?: string;
  maxBatchSize: number;
  inputs: ConfigTensor[];
  outputs: ConfigTensor[];
  /** Extra top-level lines, written after max_batch_size. */
  extra?: string[];
  cpuInstance?: boolean;
  /** Extra top-level lines, written last. */
  trailer?: string[];
}

function tensorList(field: 'input' | 'output', tensors: ConfigTensor[]): string {
  const items = tensors.map((t) => {
    const lines = [
      '  {',
      `    name: "${t.name}"`,
      `    data_type: ${t.dataType}`,
      `    dims: [ ${t.dims.join(', ')} ]`,
    ];
    if (t.optional) lines.push('    optional: true');
    lines.push('  }');
    return lines.join('\n');
  });
  return `${field} [\n${items.join(',\n')}\n]`;
}

function configText(c: ConfigSpec): string {
  const parts = [
    `name: "${c.name}"`,
    c.backend ? `backend: "${c.backend}"` : 'platform: "onnxruntime_onnx"',
    `max_batch_size: ${c.maxBatchSize}`,
    ...(c.extra ?? []),
    tensorList('input', c.inputs),
    tensorList('output', c.outputs),
  ];
  if (c.cpuInstance) parts.push('instance_group [ { count: 1 kind: KIND_CPU } ]');
  parts.push(...(c.trailer ?? []));
  return parts.join('\n') + '\n';
}

// ---------------------------------------------------------------------------
// Models

const tensor = (name: string, elemType: OnnxElemType, shape: (number | string)[]): ValueSpec => ({ name, elemType, shape });

function simple(): GeneratedModel {
  const io = (n: string) => tensor(n, 'INT32', ['batch', 16]);
  const model = writeModel({
    inputs: [io('INPUT0'), io('INPUT1')],
    outputs: [io('OUTPUT0'), io('OUTPUT1')],
    nodes: [
      { opType: 'Add', inputs: ['INPUT0', 'INPUT1'], outputs: ['OUTPUT0'] },
      { opType: 'Sub', inputs: ['INPUT0', 'INPUT1'], outputs: ['OUTPUT1'] },
    ],
  });
  const t = (name: string): ConfigTensor => ({ name, dataType: 'TYPE_INT32', dims: [16] });
  return {
    target: 'repo',
    name: 'simple',
    files: [
      { path: 'config.pbtxt', content: configText({ name: 'simple', maxBatchSize: 8, inputs: [t('INPUT0'), t('INPUT1')], outputs: [t('OUTPUT0'), t('OUTPUT1')], cpuInstance: true, trailer: ['# Concurrent requests share a model run: a tiny model costs less than the trip to its worker.', 'dynamic_batching { }'] }) },
      { path: '1/model.onnx', content: model },
    ],
  };
}

/**
 * Triton's `simple_int8` example (grpc_explicit_int8_content_client): `simple` on INT8. The sums
 * go through INT32, as onnxruntime's CPU Add and Sub do not take INT8, and wrap back to INT8.
 */
function simpleInt8(): GeneratedModel {
  const io = (n: string) => tensor(n, 'INT8', ['batch', 16]);
  const toInt = { to: onnxTypeCode('INT32') };
  const toInt8 = { to: onnxTypeCode('INT8') };
  const model = writeModel({
    inputs: [io('INPUT0'), io('INPUT1')],
    outputs: [io('OUTPUT0'), io('OUTPUT1')],
    nodes: [
      { opType: 'Cast', inputs: ['INPUT0'], outputs: ['a'], attributes: toInt },
      { opType: 'Cast', inputs: ['INPUT1'], outputs: ['b'], attributes: toInt },
      { opType: 'Add', inputs: ['a', 'b'], outputs: ['sum'] },
      { opType: 'Sub', inputs: ['a', 'b'], outputs: ['difference'] },
      { opType: 'Cast', inputs: ['sum'], outputs: ['OUTPUT0'], attributes: toInt8 },
      { opType: 'Cast', inputs: ['difference'], outputs: ['OUTPUT1'], attributes: toInt8 },
    ],
  });
  const t = (name: string): ConfigTensor => ({ name, dataType: 'TYPE_INT8', dims: [16] });
  return {
    target: 'examples',
    name: 'simple_int8',
    files: [
      { path: 'config.pbtxt', content: configText({ name: 'simple_int8', maxBatchSize: 8, inputs: [t('INPUT0'), t('INPUT1')], outputs: [t('OUTPUT0'), t('OUTPUT1')], cpuInstance: true }) },
      { path: '1/model.onnx', content: model },
    ],
  };
}

/**
 * simple_identity is a JavaScript model, as Triton's is a Python one: onnxruntime-node passes
 * strings as NUL-terminated UTF-8, so an ONNX Identity cannot return every BYTES element exactly
 * (Triton's string examples send `he\x00llo`).
 */
function simpleIdentity(): GeneratedModel {
  const t = (name: string): ConfigTensor => ({ name, dataType: 'TYPE_STRING', dims: [-1] });
  const code = `// simple_identity: OUTPUT0 is INPUT0, byte for byte. A model written in JavaScript
// (docs/javascript-models.md): the default export is a class, one object per instance, whose
// execute() answers a batch of requests with one response each.
export default class SimpleIdentity {
  execute(requests) {
    return requests.map(({ inputs }) => ({ outputs: { OUTPUT0: inputs.INPUT0 } }));
  }
}
`;
  return {
    target: 'repo',
    name: 'simple_identity',
    files: [
      { path: 'config.pbtxt', content: configText({ name: 'simple_identity', backend: 'javascript', maxBatchSize: 8, inputs: [t('INPUT0')], outputs: [t('OUTPUT0')], cpuInstance: true }) },
      { path: '1/model.js', content: code },
    ],
  };
}

/**
 * repeat_int32, as Triton's decoupled example of that name (IN, DELAY, WAIT → a stream of OUT,
 * IDX), written in JavaScript: for simple_grpc_custom_repeat and other streaming clients.
 */
function repeatInt32(): GeneratedModel {
  const t = (name: string, dataType: string, dims: number[]): ConfigTensor => ({ name, dataType, dims });
  const config = configText({
    name: 'repeat_int32',
    backend: 'javascript',
    maxBatchSize: 0,
    extra: ['model_transaction_policy { decoupled: true }'],
    inputs: [t('IN', 'TYPE_INT32', [-1]), t('DELAY', 'TYPE_UINT32', [-1]), t('WAIT', 'TYPE_UINT32', [1])],
    outputs: [t('OUT', 'TYPE_INT32', [1]), t('IDX', 'TYPE_UINT32', [1])],
    cpuInstance: true,
  });
  const code = `// repeat_int32: a decoupled model (docs/javascript-models.md). For each element i of IN it
// waits DELAY[i] milliseconds and sends a response with OUT = IN[i] and IDX = i; then it waits
// WAIT milliseconds and sends the final flag alone. IN and DELAY must have the same length.
import { setTimeout as sleep } from 'node:timers/promises';

export default class RepeatInt32 {
  async execute(requests) {
    await Promise.all(requests.map(async (request) => {
      const values = request.inputs.IN.data;
      const delays = request.inputs.DELAY.data;
      if (delays.length !== values.length) {
        request.send({ error: \`expected IN and DELAY to have the same length, got \${values.length} and \${delays.length}\` }, { final: true });
        return;
      }
      for (let i = 0; i < values.length; i++) {
        await sleep(delays[i]);
        request.send({
          outputs: {
            OUT: { datatype: 'INT32', shape: [1], data: new Int32Array([values[i]]) },
            IDX: { datatype: 'UINT32', shape: [1], data: new Uint32Array([i]) },
          },
        });
      }
      await sleep(request.inputs.WAIT.data[0]);
      request.send(null, { final: true });
    }));
  }
}
`;
  return {
    target: 'examples',
    name: 'repeat_int32',
    files: [
      { path: 'config.pbtxt', content: config },
      { path: '1/model.js', content: code },
    ],
  };
}

/** The ONNX string identity that simple_identity was: for tests of onnxruntime's strings. */
function stringIdentity(): GeneratedModel {
  const model = writeModel({
    inputs: [tensor('INPUT0', 'STRING', ['batch', 'len'])],
    outputs: [tensor('OUTPUT0', 'STRING', ['batch', 'len'])],
    nodes: [{ opType: 'Identity', inputs: ['INPUT0'], outputs: ['OUTPUT0'] }],
  });
  const t = (name: string): ConfigTensor => ({ name, dataType: 'TYPE_STRING', dims: [-1] });
  return {
    target: 'fixtures',
    name: 'string_identity',
    files: [
      { path: 'config.pbtxt', content: configText({ name: 'string_identity', maxBatchSize: 8, inputs: [t('INPUT0')], outputs: [t('OUTPUT0')], cpuInstance: true }) },
      { path: '1/model.onnx', content: model },
    ],
  };
}

function simpleString(): GeneratedModel {
  const io = (n: string) => tensor(n, 'STRING', ['batch', 16]);
  const toInt = { to: onnxTypeCode('INT32') };
  const toString = { to: onnxTypeCode('STRING') };
  const model = writeModel({
    inputs: [io('INPUT0'), io('INPUT1')],
    outputs: [io('OUTPUT0'), io('OUTPUT1')],
    nodes: [
      { opType: 'Cast', inputs: ['INPUT0'], outputs: ['input0_int'], attributes: toInt },
      { opType: 'Cast', inputs: ['INPUT1'], outputs: ['input1_int'], attributes: toInt },
      { opType: 'Add', inputs: ['input0_int', 'input1_int'], outputs: ['sum'] },
      { opType: 'Sub', inputs: ['input0_int', 'input1_int'], outputs: ['difference'] },
      { opType: 'Cast', inputs: ['sum'], outputs: ['OUTPUT0'], attributes: toString },
      { opType: 'Cast', inputs: ['difference'], outputs: ['OUTPUT1'], attributes: toString },
    ],
  });
  const t = (name: string): ConfigTensor => ({ name, dataType: 'TYPE_STRING', dims: [16] });
  return {
    target: 'repo',
    name: 'simple_string',
    files: [
      { path: 'config.pbtxt', content: configText({ name: 'simple_string', maxBatchSize: 8, inputs: [t('INPUT0'), t('INPUT1')], outputs: [t('OUTPUT0'), t('OUTPUT1')], cpuInstance: true }) },
      { path: '1/model.onnx', content: model },
    ],
  };
}

/** Triton type name (as used in IN_<TYPE>/OUT_<TYPE>) → [config data_type, ONNX element type]. */
export const ALL_TYPES: readonly (readonly [string, string, OnnxElemType])[] = [
  ['BOOL', 'TYPE_BOOL', 'BOOL'],
  ['UINT8', 'TYPE_UINT8', 'UINT8'],
  ['UINT16', 'TYPE_UINT16', 'UINT16'],
  ['UINT32', 'TYPE_UINT32', 'UINT32'],
  ['UINT64', 'TYPE_UINT64', 'UINT64'],
  ['INT8', 'TYPE_INT8', 'INT8'],
  ['INT16', 'TYPE_INT16', 'INT16'],
  ['INT32', 'TYPE_INT32', 'INT32'],
  ['INT64', 'TYPE_INT64', 'INT64'],
  ['FP16', 'TYPE_FP16', 'FLOAT16'],
  ['FP32', 'TYPE_FP32', 'FLOAT'],
  ['FP64', 'TYPE_FP64', 'DOUBLE'],
  ['BYTES', 'TYPE_STRING', 'STRING'],
];

function allTypes(): GeneratedModel {
  // Each input has its own symbolic length so that lengths may differ per input.
  const shape = (t: string) => ['batch', `${t.toLowerCase()}_len`];
  const model = writeModel({
    inputs: ALL_TYPES.map(([t, , onnx]) => tensor(`IN_${t}`, onnx, shape(t))),
    outputs: ALL_TYPES.map(([t, , onnx]) => tensor(`OUT_${t}`, onnx, shape(t))),
    nodes: ALL_TYPES.map(([t]) => ({ opType: 'Identity', inputs: [`IN_${t}`], outputs: [`OUT_${t}`] })),
  });
  return {
    target: 'fixtures',
    name: 'all_types',
    files: [
      {
        path: 'config.pbtxt',
        content: configText({
          name: 'all_types',
          maxBatchSize: 8,
          inputs: ALL_TYPES.map(([t, cfg]) => ({ name: `IN_${t}`, dataType: cfg, dims: [-1] })),
          outputs: ALL_TYPES.map(([t, cfg]) => ({ name: `OUT_${t}`, dataType: cfg, dims: [-1] })),
        }),
      },
      { path: '1/model.onnx', content: model },
    ],
  };
}

function noConfig(): GeneratedModel {
  const io = (n: string) => tensor(n, 'FLOAT', ['batch', 4]);
  const model = writeModel({
    inputs: [io('INPUT0'), io('INPUT1')],
    outputs: [io('OUTPUT0')],
    nodes: [{ opType: 'Add', inputs: ['INPUT0', 'INPUT1'], outputs: ['OUTPUT0'] }],
  });
  return { target: 'fixtures', name: 'no_config', files: [{ path: '1/model.onnx', content: model }] };
}

function wholeShape(): GeneratedModel {
  const model = writeModel({
    inputs: [tensor('INPUT0', 'FLOAT', [2, 3])],
    outputs: [tensor('OUTPUT0', 'FLOAT', [2, 3])],
    nodes: [{ opType: 'Mul', inputs: ['INPUT0', 'two'], outputs: ['OUTPUT0'] }],
    initializers: [{ name: 'two', elemType: 'FLOAT', dims: [], data: [2] }],
  });
  const t = (name: string): ConfigTensor => ({ name, dataType: 'TYPE_FP32', dims: [2, 3] });
  return {
    target: 'fixtures',
    name: 'whole_shape',
    files: [
      { path: 'config.pbtxt', content: configText({ name: 'whole_shape', maxBatchSize: 0, inputs: [t('INPUT0')], outputs: [t('OUTPUT0')] }) },
      { path: '1/model.onnx', content: model },
    ],
  };
}

function versioned(): GeneratedModel {
  const versionModel = (version: number) =>
    writeModel({
      inputs: [tensor('INPUT0', 'FLOAT', ['batch', 1])],
      outputs: [tensor('OUTPUT0', 'FLOAT', ['batch', 1])],
      nodes: [{ opType: 'Mul', inputs: ['INPUT0', 'version'], outputs: ['OUTPUT0'] }],
      initializers: [{ name: 'version', elemType: 'FLOAT', dims: [], data: [version] }],
    });
  const t = (name: string): ConfigTensor => ({ name, dataType: 'TYPE_FP32', dims: [1] });
  return {
    target: 'fixtures',
    name: 'versioned',
    files: [
      {
        path: 'config.pbtxt',
        content: configText({
          name: 'versioned',
          maxBatchSize: 4,
          extra: ['version_policy: { all { } }'],
          inputs: [t('INPUT0')],
          outputs: [t('OUTPUT0')],
        }),
      },
      { path: '1/model.onnx', content: versionModel(1) },
      { path: '2/model.onnx', content: versionModel(2) },
      { path: '3/model.onnx', content: versionModel(3) },
    ],
  };
}

function badConfig(): GeneratedModel {
  const io = (n: string) => tensor(n, 'FLOAT', ['batch', 4]);
  const model = writeModel({
    inputs: [io('INPUT0')],
    outputs: [io('OUTPUT0')],
    nodes: [{ opType: 'Identity', inputs: ['INPUT0'], outputs: ['OUTPUT0'] }],
  });
  // The misspelt field is on line 3.
  const config = configText({
    name: 'bad_config',
    maxBatchSize: 8,
    inputs: [{ name: 'INPUT0', dataType: 'TYPE_FP32', dims: [4] }],
    outputs: [{ name: 'OUTPUT0', dataType: 'TYPE_FP32', dims: [4] }],
  }).replace('max_batch_size: 8', 'max_batch_sise: 8');
  return {
    target: 'fixtures',
    name: 'bad_config',
    files: [
      { path: 'config.pbtxt', content: config },
      { path: '1/model.onnx', content: model },
    ],
  };
}

/** 64 bytes from a fixed-seed xorshift32: not an ONNX model, the same every run. */
export function garbageBytes(length = 64, seed = 0x4e455245): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0;
  for (let i = 0; i < length; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

function corrupt(): GeneratedModel {
  return {
    target: 'fixtures',
    name: 'corrupt',
    files: [
      {
        path: 'config.pbtxt',
        content: configText({
          name: 'corrupt',
          maxBatchSize: 8,
          inputs: [{ name: 'INPUT0', dataType: 'TYPE_FP32', dims: [4] }],
          outputs: [{ name: 'OUTPUT0', dataType: 'TYPE_FP32', dims: [4] }],
        }),
      },
      { path: '1/model.onnx', content: garbageBytes() },
    ],
  };
}

/**
 * `slow`: OUTPUT0 = INPUT0 (FP32 [batch, 1]), after a chain of 512x512 matrix products seeded
 * from the input, so the runtime cannot fold it away. A run takes the same long time whatever
 * the batch size, which lets tests fill queues and hold instances busy.
 */
export const SLOW_MATMULS = 192;

function slow(): GeneratedModel {
  const nodes: NodeSpec[] = [
    { opType: 'ReduceSum', inputs: ['INPUT0'], outputs: ['seed'], attributes: { keepdims: 0 } },
    { opType: 'Expand', inputs: ['seed', 'square'], outputs: ['m0'] },
  ];
  for (let i = 0; i < SLOW_MATMULS; i++) nodes.push({ opType: 'MatMul', inputs: [`m${i}`, 'mix'], outputs: [`m${i + 1}`] });
  nodes.push(
    { opType: 'ReduceMean', inputs: [`m${SLOW_MATMULS}`], outputs: ['mean'], attributes: { keepdims: 0 } },
    { opType: 'Sub', inputs: ['mean', 'mean'], outputs: ['zero'] },
    { opType: 'Add', inputs: ['INPUT0', 'zero'], outputs: ['OUTPUT0'] },
  );
  const model = writeModel({
    inputs: [tensor('INPUT0', 'FLOAT', ['batch', 1])],
    outputs: [tensor('OUTPUT0', 'FLOAT', ['batch', 1])],
    nodes: [
      { opType: 'ConstantOfShape', inputs: ['square'], outputs: ['mix'], attributes: { value: { elemType: 'FLOAT', dims: [1], data: [1 / 512] } } },
      ...nodes,
    ],
    initializers: [{ name: 'square', elemType: 'INT64', dims: [2], data: [512, 512] }],
  });
  const t = (name: string): ConfigTensor => ({ name, dataType: 'TYPE_FP32', dims: [1] });
  return {
    target: 'fixtures',
    name: 'slow',
    files: [
      { path: 'config.pbtxt', content: configText({ name: 'slow', maxBatchSize: 8, inputs: [t('INPUT0')], outputs: [t('OUTPUT0')], cpuInstance: true, trailer: ['dynamic_batching { }'] }) },
      { path: '1/model.onnx', content: model },
    ],
  };
}

/**
 * The colour classifier that stands in for Triton's `densenet_onnx` in its image client examples
 * (`image_client -m densenet_onnx -c 3 -s INCEPTION <image>`, `grpc_client.py`): the same tensor
 * names and input shape (CHW 3x224x224, which `grpc_client.py` sends as a fixed shape; the model
 * stays a few hundred bytes, its weights do not depend on the image size), one FP32 score per
 * class, no batch dimension, and a label file. It is not DenseNet: it ranks eight colours by how close the image's
 * mean colour (in INCEPTION scaling, [-1, 1] per channel) is to each, through a softmax.
 */
export const COLOUR_CLASSES: readonly (readonly [string, readonly [number, number, number]])[] = [
  ['red', [1, -1, -1]], ['green', [-1, 1, -1]], ['blue', [-1, -1, 1]], ['yellow', [1, 1, -1]],
  ['cyan', [-1, 1, 1]], ['magenta', [1, -1, 1]], ['white', [1, 1, 1]], ['black', [-1, -1, -1]],
];
/** The stand-in's image height and width: Triton's densenet_onnx takes 3x224x224. */
export const DENSENET_SIDE = 224;
/** Softmax sharpness: logits are -|mean - colour|^2 times this. */
export const COLOUR_SHARPNESS = 4;

function densenetOnnx(): GeneratedModel {
  const k = COLOUR_CLASSES.length;
  // -s|m - p|^2 = 2s m.p - s|p|^2 - s|m|^2; the last term is the same for every class, so the
  // softmax drops it and one MatMul plus a bias does the rest.
  const weights: number[] = [];
  for (let c = 0; c < 3; c++) for (const [, p] of COLOUR_CLASSES) weights.push(2 * COLOUR_SHARPNESS * p[c]);
  const bias = COLOUR_CLASSES.map(([, p]) => -COLOUR_SHARPNESS * (p[0] ** 2 + p[1] ** 2 + p[2] ** 2));
  const model = writeModel({
    inputs: [tensor('data_0', 'FLOAT', [3, DENSENET_SIDE, DENSENET_SIDE])],
    outputs: [tensor('fc6_1', 'FLOAT', [k])],
    nodes: [
      { opType: 'ReduceMean', inputs: ['data_0'], outputs: ['mean'], attributes: { axes: [1, 2], keepdims: 0 } },
      { opType: 'Reshape', inputs: ['mean', 'row'], outputs: ['mean_row'] },
      { opType: 'MatMul', inputs: ['mean_row', 'weights'], outputs: ['scaled'] },
      { opType: 'Add', inputs: ['scaled', 'bias'], outputs: ['logits'] },
      { opType: 'Softmax', inputs: ['logits'], outputs: ['scores'], attributes: { axis: -1 } },
      { opType: 'Reshape', inputs: ['scores', 'flat'], outputs: ['fc6_1'] },
    ],
    initializers: [
      { name: 'row', elemType: 'INT64', dims: [2], data: [1, 3] },
      { name: 'weights', elemType: 'FLOAT', dims: [3, k], data: weights },
      { name: 'bias', elemType: 'FLOAT', dims: [k], data: bias },
      { name: 'flat', elemType: 'INT64', dims: [1], data: [k] },
    ],
  });
  const config = `name: "densenet_onnx"
# A tiny colour classifier standing in for Triton's densenet_onnx (tools/generate-models.ts).
platform: "onnxruntime_onnx"
max_batch_size: 0
input [
  {
    name: "data_0"
    data_type: TYPE_FP32
    format: FORMAT_NCHW
    dims: [ 3, ${DENSENET_SIDE}, ${DENSENET_SIDE} ]
  }
]
output [
  {
    name: "fc6_1"
    data_type: TYPE_FP32
    dims: [ ${k} ]
    label_filename: "colour_labels.txt"
  }
]
instance_group [ { count: 1 kind: KIND_CPU } ]
`;
  return {
    target: 'examples',
    name: 'densenet_onnx',
    files: [
      { path: 'config.pbtxt', content: config },
      { path: 'colour_labels.txt', content: COLOUR_CLASSES.map(([name]) => `${name}\n`).join('') },
      { path: '1/model.onnx', content: model },
    ],
  };
}

/** A control input of a sequence model's config: a false/true pair of INT32 values. */
const int32Control = (name: string, kind: string) => `    {
      name: "${name}"
      control [ { kind: ${kind} int32_false_true: [ 0, 1 ] } ]
    }`;

const sequenceIo = `input [ { name: "INPUT" data_type: TYPE_INT32 dims: [ 1 ] } ]
output [ { name: "OUTPUT" data_type: TYPE_INT32 dims: [ 1 ] } ]`;

/**
 * Triton's `simple_sequence` example, as its client examples expect it: OUTPUT = (INPUT + START) *
 * READY, INT32 [batch, 1]; the server feeds START and READY (direct strategy).
 */
function simpleSequence(): GeneratedModel {
  const io = (n: string) => tensor(n, 'INT32', ['batch', 1]);
  const model = writeModel({
    inputs: [io('INPUT'), io('START'), io('READY')],
    outputs: [io('OUTPUT')],
    nodes: [
      { opType: 'Add', inputs: ['INPUT', 'START'], outputs: ['started'] },
      { opType: 'Mul', inputs: ['started', 'READY'], outputs: ['OUTPUT'] },
    ],
  });
  const config = `name: "simple_sequence"
platform: "onnxruntime_onnx"
max_batch_size: 8
sequence_batching {
  control_input [
${int32Control('START', 'CONTROL_SEQUENCE_START')},
${int32Control('READY', 'CONTROL_SEQUENCE_READY')}
  ]
}
${sequenceIo}
instance_group [ { count: 1 kind: KIND_CPU } ]
`;
  return { target: 'examples', name: 'simple_sequence', files: [{ path: 'config.pbtxt', content: config }, { path: '1/model.onnx', content: model }] };
}

/**
 * Triton's `simple_dyna_sequence` example (oldest strategy): OUTPUT = (INPUT + START + END *
 * CORRID) * READY, so the last request of a sequence adds its correlation id (UINT64 CORRID, taken
 * as INT32 here, as the client examples' ids fit).
 */
function simpleDynaSequence(): GeneratedModel {
  const io = (n: string) => tensor(n, 'INT32', ['batch', 1]);
  const model = writeModel({
    inputs: [io('INPUT'), io('START'), io('END'), io('READY'), tensor('CORRID', 'UINT64', ['batch', 1])],
    outputs: [io('OUTPUT')],
    nodes: [
      { opType: 'Cast', inputs: ['CORRID'], outputs: ['corrid'], attributes: { to: onnxTypeCode('INT32') } },
      { opType: 'Mul', inputs: ['END', 'corrid'], outputs: ['ending'] },
      { opType: 'Add', inputs: ['INPUT', 'START'], outputs: ['started'] },
      { opType: 'Add', inputs: ['started', 'ending'], outputs: ['total'] },
      { opType: 'Mul', inputs: ['total', 'READY'], outputs: ['OUTPUT'] },
    ],
  });
  const config = `name: "simple_dyna_sequence"
platform: "onnxruntime_onnx"
max_batch_size: 8
sequence_batching {
  max_sequence_idle_microseconds: 10000000
  oldest {
    max_candidate_sequences: 1024
    max_queue_delay_microseconds: 10000
  }
  control_input [
${int32Control('START', 'CONTROL_SEQUENCE_START')},
${int32Control('END', 'CONTROL_SEQUENCE_END')},
${int32Control('READY', 'CONTROL_SEQUENCE_READY')},
    {
      name: "CORRID"
      control [ { kind: CONTROL_SEQUENCE_CORRID data_type: TYPE_UINT64 } ]
    }
  ]
}
${sequenceIo}
instance_group [ { count: 2 kind: KIND_CPU } ]
`;
  return { target: 'examples', name: 'simple_dyna_sequence', files: [{ path: 'config.pbtxt', content: config }, { path: '1/model.onnx', content: model }] };
}

/**
 * Triton's `simple_string_dyna_sequence` (a C++ custom backend there), as the `-d` runs of its
 * sequence client examples expect it: a string correlation id (CORRID TYPE_STRING, which the
 * model casts to an integer, so the id must be a decimal integer as those examples send it:
 * onnxruntime's Cast reads its leading digits as C's stoll does, and refuses an id without any), a
 * running sum of INPUT kept as implicit state and reset at START, and the last request adds the
 * id: OUTPUT = (sum + END * int(CORRID)) * READY, INT32 [batch, 1]; oldest strategy.
 */
function simpleStringDynaSequence(): GeneratedModel {
  const io = (n: string) => tensor(n, 'INT32', ['batch', 1]);
  const model = writeModel({
    inputs: [io('INPUT'), io('START'), io('END'), io('READY'), tensor('CORRID', 'STRING', ['batch', 1]), io('INPUT_STATE')],
    outputs: [io('OUTPUT'), io('OUTPUT_STATE')],
    nodes: [
      { opType: 'Cast', inputs: ['CORRID'], outputs: ['corrid'], attributes: { to: onnxTypeCode('INT32') } },
      { opType: 'Add', inputs: ['INPUT', 'INPUT_STATE'], outputs: ['OUTPUT_STATE'] },
      { opType: 'Mul', inputs: ['END', 'corrid'], outputs: ['ending'] },
      { opType: 'Add', inputs: ['OUTPUT_STATE', 'ending'], outputs: ['total'] },
      { opType: 'Mul', inputs: ['total', 'READY'], outputs: ['OUTPUT'] },
    ],
  });
  const config = `name: "simple_string_dyna_sequence"
platform: "onnxruntime_onnx"
max_batch_size: 8
sequence_batching {
  max_sequence_idle_microseconds: 10000000
  oldest {
    max_candidate_sequences: 1024
    max_queue_delay_microseconds: 10000
  }
  control_input [
${int32Control('START', 'CONTROL_SEQUENCE_START')},
${int32Control('END', 'CONTROL_SEQUENCE_END')},
${int32Control('READY', 'CONTROL_SEQUENCE_READY')},
    {
      name: "CORRID"
      control [ { kind: CONTROL_SEQUENCE_CORRID data_type: TYPE_STRING } ]
    }
  ]
  state [ { input_name: "INPUT_STATE" output_name: "OUTPUT_STATE" data_type: TYPE_INT32 dims: [ 1 ] } ]
}
${sequenceIo}
instance_group [ { count: 2 kind: KIND_CPU } ]
`;
  return { target: 'examples', name: 'simple_string_dyna_sequence', files: [{ path: 'config.pbtxt', content: config }, { path: '1/model.onnx', content: model }] };
}

/**
 * `sequence_accumulate`: a running sum kept as implicit state. OUTPUT_STATE = INPUT + INPUT_STATE
 * and OUTPUT = OUTPUT_STATE, INT32 [batch, 1]; the server feeds INPUT_STATE from the sequence's
 * previous OUTPUT_STATE (tests write its sequence_batching section).
 */
function sequenceAccumulate(): GeneratedModel {
  const io = (n: string) => tensor(n, 'INT32', ['batch', 1]);
  const model = writeModel({
    inputs: [io('INPUT'), io('INPUT_STATE')],
    outputs: [io('OUTPUT'), io('OUTPUT_STATE')],
    nodes: [
      { opType: 'Add', inputs: ['INPUT', 'INPUT_STATE'], outputs: ['OUTPUT_STATE'] },
      { opType: 'Identity', inputs: ['OUTPUT_STATE'], outputs: ['OUTPUT'] },
    ],
  });
  const config = `name: "sequence_accumulate"
platform: "onnxruntime_onnx"
max_batch_size: 8
sequence_batching {
  state [ { input_name: "INPUT_STATE" output_name: "OUTPUT_STATE" data_type: TYPE_INT32 dims: [ 1 ] } ]
}
${sequenceIo}
instance_group [ { count: 1 kind: KIND_CPU } ]
`;
  return { target: 'fixtures', name: 'sequence_accumulate', files: [{ path: 'config.pbtxt', content: config }, { path: '1/model.onnx', content: model }] };
}

// No optional_input fixture: onnxruntime cannot run a graph with a graph input
// left unfed (the JS API throws "input 'X' is missing in 'feeds'", and the
// native run fails with "Missing Input"), and an input that also has an
// initializer is dropped from the session's inputNames, so feeding it is
// silently ignored by onnxruntime-node.

/** Every model directory, in memory. */
export function buildModels(): GeneratedModel[] {
  return [simple(), simpleIdentity(), stringIdentity(), repeatInt32(), simpleString(), allTypes(), noConfig(), wholeShape(), versioned(), badConfig(), corrupt(), slow(), densenetOnnx(), simpleInt8(), simpleSequence(), simpleDynaSequence(), simpleStringDynaSequence(), sequenceAccumulate()];
}

/**
 * Writes every model directory (replacing those directories, and only those)
 * and returns the paths written.
 */
export function generateModels(opts: { repo?: string; fixtures?: string; examples?: string } = {}): string[] {
  const dirs = {
    repo: resolve(opts.repo ?? DEFAULT_REPO_DIR),
    fixtures: resolve(opts.fixtures ?? DEFAULT_FIXTURES_DIR),
    examples: resolve(opts.examples ?? DEFAULT_EXAMPLES_DIR),
  };
  const written: string[] = [];
  for (const model of buildModels()) {
    const modelDir = join(dirs[model.target], model.name);
    rmSync(modelDir, { recursive: true, force: true });
    for (const file of model.files) {
      const path = join(modelDir, file.path);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, file.content);
      written.push(path);
    }
  }
  return written;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const written = generateModels();
  for (const path of written) console.log(path.startsWith(PROJECT_ROOT) ? path.slice(PROJECT_ROOT.length) : path);
  console.log(`${written.length} files written`);
}
