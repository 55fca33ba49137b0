/**
 * The benchmark MLP of the batching issue: FP32 input [batch, 1024], layers 1024→4096→4096→1000
 * with ReLU between them, deterministic weights (about 100 MB). Generated at bench time into
 * bench/models/ (not committed), with a Nereid config, unless it is already there.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeModel, type InitializerSpec, type NodeSpec } from '../tools/onnx-writer.ts';

export const MLP_LAYERS = [1024, 4096, 4096, 1000] as const;
export const BENCH_REPO = path.join(path.dirname(fileURLToPath(import.meta.url)), 'models');

/** Uniform values in [-scale, scale) from a xorshift32 stream: the same bytes every run. */
export function weights(count: number, seed: number, scale: number): Float32Array {
  const out = new Float32Array(count);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = ((x >>> 0) / 2 ** 32 * 2 - 1) * scale;
  }
  return out;
}

export function mlpModelBytes(): Uint8Array {
  const nodes: NodeSpec[] = [];
  const initializers: InitializerSpec[] = [];
  let input = 'INPUT0';
  for (let i = 0; i + 1 < MLP_LAYERS.length; i++) {
    const [n, m] = [MLP_LAYERS[i], MLP_LAYERS[i + 1]];
    initializers.push(
      { name: `w${i}`, elemType: 'FLOAT', dims: [n, m], data: weights(n * m, 1000 + i, 1 / Math.sqrt(n)) },
      { name: `b${i}`, elemType: 'FLOAT', dims: [m], data: weights(m, 2000 + i, 0.01) },
    );
    const last = i + 2 === MLP_LAYERS.length;
    nodes.push({ opType: 'MatMul', inputs: [input, `w${i}`], outputs: [`mm${i}`] });
    nodes.push({ opType: 'Add', inputs: [`mm${i}`, `b${i}`], outputs: [last ? 'OUTPUT0' : `pre${i}`] });
    if (!last) nodes.push({ opType: 'Relu', inputs: [`pre${i}`], outputs: [`h${i}`] });
    input = `h${i}`;
  }
  return writeModel({
    inputs: [{ name: 'INPUT0', elemType: 'FLOAT', shape: ['batch', MLP_LAYERS[0]] }],
    outputs: [{ name: 'OUTPUT0', elemType: 'FLOAT', shape: ['batch', MLP_LAYERS.at(-1)!] }],
    nodes,
    initializers,
  });
}

/** Nereid's config for the MLP: batches up to `maxBatch`, one instance, one runtime thread. */
export function mlpConfig(maxBatch: number): string {
  return `name: "mlp"
platform: "onnxruntime_onnx"
max_batch_size: ${maxBatch}
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ ${MLP_LAYERS[0]} ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ ${MLP_LAYERS.at(-1)} ] } ]
instance_group [ { count: 1 kind: KIND_CPU } ]
dynamic_batching { }
parameters { key: "intra_op_thread_count" value { string_value: "1" } }
`;
}

/** Writes bench/models/mlp (model once, config every time); returns the model file's path. */
export function ensureMlpRepository(maxBatch: number): string {
  const dir = path.join(BENCH_REPO, 'mlp');
  const file = path.join(dir, '1', 'model.onnx');
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, mlpModelBytes());
  }
  writeFileSync(path.join(dir, 'config.pbtxt'), mlpConfig(maxBatch));
  return file;
}
