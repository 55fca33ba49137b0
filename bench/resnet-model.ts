/**
 * The benchmark's convolutional model: a small ResNet on FP32 images [batch, 3, 224, 224].
 * A 7x7 stride-2 stem (32 channels), ReLU and a 3x3 stride-2 max pool, then three stages of three
 * residual basic blocks each (32, 64, 128 channels; the first block of stages 2 and 3 halves the
 * resolution and projects its skip with a 1x1 stride-2 convolution), global average pool,
 * flatten and a fully connected layer to 1000 classes. About 0.55 G multiply-adds per image and
 * 1.2 M weights (4.9 MB): it generates in a fraction of a second, and one core runs a few dozen
 * images per second (40 to 60 on the development machine, busy), so the serving overhead per
 * request is small next to the model's work (the opposite end from `simple`).
 *
 * There is no batch normalisation: the weights are deterministic (xorshift, see mlp-model.ts)
 * and scaled He-style (uniform with variance 2 / fan-in), with the second convolution of each
 * block scaled down by 4 so the residual sums grow slowly; the logits stay finite and differ
 * from image to image.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { writeModel, type InitializerSpec, type NodeSpec } from '../tools/onnx-writer.ts';
import { BENCH_REPO, weights } from './mlp-model.ts';

/** One image: channels, height, width (the batch dimension comes first on the wire). */
export const RESNET_INPUT = [3, 224, 224] as const;
export const RESNET_CLASSES = 1000;
/** Channels of the stem and of each stage. */
export const RESNET_STEM_CHANNELS = 32;
export const RESNET_STAGES = [32, 64, 128] as const;
/** Residual basic blocks per stage. */
export const RESNET_BLOCKS_PER_STAGE = 3;
/** The model's name in the repository. */
export const RESNET_NAME = 'resnet';

/** Builds the ONNX model: nodes and initializers in a deterministic order, so the same bytes every run. */
export function resnetModelBytes(): Uint8Array {
  const nodes: NodeSpec[] = [];
  const initializers: InitializerSpec[] = [];
  // Spread the per-tensor seeds over 32 bits: a xorshift stream started from a small seed opens with near-equal values.
  let tensor = 1;
  const nextSeed = (): number => Math.imul(tensor++, 0x9e3779b1) >>> 0;

  /** conv (with bias) of `input` into `output`; `gain` scales the He-style bound. */
  const conv = (input: string, output: string, cin: number, cout: number, kernel: number, stride: number, gain = 1): void => {
    const fanIn = cin * kernel * kernel;
    const bound = gain * Math.sqrt(6 / fanIn); // uniform on [-b, b] has variance b^2 / 3 = 2 / fan-in
    initializers.push(
      { name: `${output}_w`, elemType: 'FLOAT', dims: [cout, cin, kernel, kernel], data: weights(cout * fanIn, nextSeed(), bound) },
      { name: `${output}_b`, elemType: 'FLOAT', dims: [cout], data: weights(cout, nextSeed(), 0.01) },
    );
    const pad = (kernel - 1) >> 1;
    nodes.push({
      opType: 'Conv',
      inputs: [input, `${output}_w`, `${output}_b`],
      outputs: [output],
      attributes: { kernel_shape: [kernel, kernel], strides: [stride, stride], pads: [pad, pad, pad, pad] },
    });
  };
  const relu = (input: string, output: string): void => {
    nodes.push({ opType: 'Relu', inputs: [input], outputs: [output] });
  };

  conv('INPUT0', 'stem', RESNET_INPUT[0], RESNET_STEM_CHANNELS, 7, 2);
  relu('stem', 'stem_relu');
  nodes.push({
    opType: 'MaxPool',
    inputs: ['stem_relu'],
    outputs: ['pool'],
    attributes: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] },
  });

  let x = 'pool';
  let channels = RESNET_STEM_CHANNELS;
  RESNET_STAGES.forEach((width, stage) => {
    for (let block = 0; block < RESNET_BLOCKS_PER_STAGE; block++) {
      const name = `s${stage + 1}b${block + 1}`;
      const stride = block === 0 && stage > 0 ? 2 : 1;
      conv(x, `${name}_c1`, channels, width, 3, stride);
      relu(`${name}_c1`, `${name}_r1`);
      conv(`${name}_r1`, `${name}_c2`, width, width, 3, 1, 0.25);
      let skip = x;
      if (stride !== 1 || channels !== width) {
        conv(x, `${name}_proj`, channels, width, 1, stride, 0.5);
        skip = `${name}_proj`;
      }
      nodes.push({ opType: 'Add', inputs: [`${name}_c2`, skip], outputs: [`${name}_sum`] });
      relu(`${name}_sum`, `${name}_out`);
      x = `${name}_out`;
      channels = width;
    }
  });

  nodes.push({ opType: 'GlobalAveragePool', inputs: [x], outputs: ['gap'] });
  nodes.push({ opType: 'Flatten', inputs: ['gap'], outputs: ['features'], attributes: { axis: 1 } });
  initializers.push(
    { name: 'fc_w', elemType: 'FLOAT', dims: [RESNET_CLASSES, channels], data: weights(RESNET_CLASSES * channels, nextSeed(), Math.sqrt(3 / channels)) },
    { name: 'fc_b', elemType: 'FLOAT', dims: [RESNET_CLASSES], data: weights(RESNET_CLASSES, nextSeed(), 0.01) },
  );
  nodes.push({ opType: 'Gemm', inputs: ['features', 'fc_w', 'fc_b'], outputs: ['OUTPUT0'], attributes: { transB: 1 } });

  return writeModel({
    inputs: [{ name: 'INPUT0', elemType: 'FLOAT', shape: ['batch', ...RESNET_INPUT] }],
    outputs: [{ name: 'OUTPUT0', elemType: 'FLOAT', shape: ['batch', RESNET_CLASSES] }],
    nodes,
    initializers,
  });
}

/** Nereid's config for the ResNet: batches up to `maxBatch`, one instance, one runtime thread. */
export function resnetConfig(maxBatch: number): string {
  return `name: "${RESNET_NAME}"
platform: "onnxruntime_onnx"
max_batch_size: ${maxBatch}
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ ${RESNET_INPUT.join(', ')} ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ ${RESNET_CLASSES} ] } ]
instance_group [ { count: 1 kind: KIND_CPU } ]
dynamic_batching { }
parameters { key: "intra_op_thread_count" value { string_value: "1" } }
`;
}

/**
 * Writes `<repo>/resnet` (the model once, the config every time) and returns the model file's
 * path. `repo` defaults to bench/models (not committed); tests pass a temporary directory.
 */
export function ensureResnetRepository(maxBatch = 8, repo: string = BENCH_REPO): string {
  const dir = path.join(repo, RESNET_NAME);
  const file = path.join(dir, '1', 'model.onnx');
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, resnetModelBytes());
  }
  writeFileSync(path.join(dir, 'config.pbtxt'), resnetConfig(maxBatch));
  return file;
}
