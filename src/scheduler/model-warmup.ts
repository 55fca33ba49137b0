/**
 * Triton's `model_warmup`: sample requests a version runs before it is marked READY, so the first
 * client request does not pay for the runtime's first-run work. Each sample gives its inputs
 * (`zero_data`, `random_data`, or `input_data_file` read from the model's `warmup/` folder), a
 * `batch_size` (a sample of 0 is skipped, as in Triton) and a `count` (runs; 0 means once).
 *
 * Differences from Triton, and why: Triton hands the sample to each instance directly; here it
 * goes through the version's scheduler (the only way into the instances from this side), as
 * `instances` concurrent requests per run, which a direct scheduler places one per free instance
 * and a dynamic batcher may merge into fewer runs. A batched sample is one request of
 * `batch_size` rows rather than `batch_size` requests of one row (the same batch reaches the
 * model). A failed sample fails the load, as in Triton.
 */
import { randomFillSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { datatypeFromConfig, elementCount } from '../dtypes.ts';
import { decodeBytesElements } from '../bytes-elements.ts';
import type { InferInput, TensorData } from '../inference/index.ts';
import type { ModelConfig, RawConfig } from '../model-config/index.ts';
import type { Scheduler } from './scheduler.ts';

/** What a warmup did: samples run and the time they took, in milliseconds. */
export interface WarmupReport {
  readonly samples: number;
  readonly runs: number;
  readonly ms: number;
}

/** Runs every sample of `config.raw.model_warmup` on `scheduler`; throws an Error naming the sample. */
export async function warmUp(scheduler: Scheduler, config: ModelConfig, modelDir: string, instances: number): Promise<WarmupReport> {
  const samples = (config.raw.model_warmup ?? []) as RawConfig[];
  if (samples.length > 0 && config.sequenceBatching) throw new Error('model_warmup is not supported on a model with sequence_batching here (its samples would need sequence controls)');
  const start = process.hrtime.bigint();
  let runs = 0;
  let ran = 0;
  for (const [i, sample] of samples.entries()) {
    const name = sample.name || String(i);
    const batchSize = Number(sample.batch_size ?? 0);
    if (batchSize === 0) continue; // Triton skips a sample of batch size 0
    let inputs: InferInput[];
    try {
      inputs = await sampleInputs(sample, config, modelDir, batchSize);
    } catch (err) {
      throw new Error(`model_warmup '${name}': ${(err as Error).message}`);
    }
    const iterations = Math.max(1, Number(sample.count ?? 0));
    for (let n = 0; n < iterations; n++) {
      try {
        await Promise.all(Array.from({ length: Math.max(1, instances) }, () => scheduler.enqueue({ id: `warmup ${name}`, inputs, outputs: null, parameters: {} })));
      } catch (err) {
        throw new Error(`model_warmup '${name}' failed: ${(err as Error).message}`);
      }
      runs++;
    }
    ran++;
  }
  return { samples: ran, runs, ms: Number(process.hrtime.bigint() - start) / 1e6 };
}

async function sampleInputs(sample: RawConfig, config: ModelConfig, modelDir: string, batchSize: number): Promise<InferInput[]> {
  const batching = config.maxBatchSize > 0;
  if (batchSize > Math.max(1, config.maxBatchSize)) {
    throw new Error(`batch_size ${batchSize} is more than the model's max_batch_size ${config.maxBatchSize}${batching ? '' : ' (a model that does not batch takes batch_size 1)'}`);
  }
  const given = (sample.inputs ?? {}) as Record<string, RawConfig>;
  for (const input of config.inputs) {
    if (!input.optional && !Object.hasOwn(given, input.name)) throw new Error(`no data for input '${input.name}'`);
  }
  const inputs: InferInput[] = [];
  for (const [name, spec] of Object.entries(given)) {
    const input = config.inputs.find((t) => t.name === name);
    if (!input) throw new Error(`'${name}' is not an input of the model`);
    const dt = datatypeFromConfig(String(spec.data_type ?? ''));
    if (!dt || dt.wire !== input.datatype.wire) throw new Error(`input '${name}' has data_type ${spec.data_type ?? 'unset'}, the model takes ${input.datatype.config}`);
    const dims = ((spec.dims ?? []) as number[]).map(Number);
    if (dims.some((d) => d < 0)) throw new Error(`input '${name}' needs every dimension given (no -1)`);
    if (dims.length !== input.dims.length || dims.some((d, k) => input.dims[k] !== -1 && input.dims[k] !== d)) {
      throw new Error(`input '${name}' has dims [${dims.join(',')}], the model takes [${input.dims.join(',')}]`);
    }
    const shape = batching ? [batchSize, ...dims] : dims;
    const perRow = elementCount(dims);
    inputs.push({ name, datatype: dt.wire, shape, data: await sampleData(spec, name, dt.wire, dt.byteSize, perRow, batching ? batchSize : 1, modelDir) });
  }
  return inputs;
}

async function sampleData(spec: RawConfig, name: string, wire: string, byteSize: number, perRow: number, rows: number, modelDir: string): Promise<TensorData> {
  const count = perRow * rows;
  if (spec.input_data_file) {
    const bytes = await readWarmupFile(modelDir, String(spec.input_data_file));
    if (wire === 'BYTES') {
      // The file holds one row's elements, each a 4-byte length and its bytes (Triton's layout).
      const row = decodeBytesElements(bytes, perRow, `warmup file '${spec.input_data_file}'`);
      return { kind: 'strings', strings: Array.from({ length: rows }, () => row).flat() };
    }
    const rowBytes = perRow * byteSize;
    if (bytes.length < rowBytes) throw new Error(`input '${name}' needs ${rowBytes} bytes, but the file '${spec.input_data_file}' has only ${bytes.length}`);
    const data = new Uint8Array(rowBytes * rows);
    for (let r = 0; r < rows; r++) data.set(bytes.subarray(0, rowBytes), r * rowBytes);
    return { kind: 'raw', bytes: data };
  }
  if (wire === 'BYTES') return { kind: 'strings', strings: Array.from({ length: count }, () => '') }; // Triton: zero data for strings
  const bytes = new Uint8Array(count * byteSize);
  if (spec.random_data) randomFillSync(bytes);
  else if (!spec.zero_data) throw new Error(`input '${name}' sets none of zero_data, random_data, input_data_file`);
  return { kind: 'raw', bytes };
}

/** A file of the model's `warmup/` folder; a path that leaves it is refused. */
async function readWarmupFile(modelDir: string, file: string): Promise<Uint8Array> {
  const root = path.resolve(modelDir, 'warmup');
  const full = path.resolve(root, file);
  const relative = path.relative(root, full);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) throw new Error(`input_data_file '${file}' is outside the model's warmup folder`);
  try {
    return new Uint8Array(await readFile(full));
  } catch (err) {
    throw new Error(`cannot read input_data_file '${file}': ${(err as Error).message}`);
  }
}
