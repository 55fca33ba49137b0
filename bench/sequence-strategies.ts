/**
 * `node --import tsx bench/sequence-strategies.ts [--sequences 16] [--length 10] [--duration-secs 4] [--rounds 3] [--json FILE]`
 *
 * The sequence batcher's two strategies on a model where batching pays: a run costs about the
 * same at any batch size (a fixed chain of matrix products; see modelBytes), with START and READY
 * controls. `--sequences` clients each send sequence after sequence
 * of `--length` requests (START on the first, END on the last, a new id each time) over
 * keep-alive HTTP with binary inputs, to one Nereid server holding two versions of the model:
 *   - direct, one slot: max_batch_size 1 and one instance, so one sequence runs at a time and the
 *     others wait in the backlog;
 *   - oldest: max_batch_size 16, max_candidate_sequences 16, so the waiting requests of different
 *     sequences share a run.
 * The rounds are interleaved (each round starting with the other strategy). The target (issue 17)
 * is oldest at 16 sequences at least 3x direct with one slot. Prints a table and one JSON line.
 */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { encodeInferRequest } from '../src/client/index.ts';
import { writeModel, type InitializerSpec, type NodeSpec } from '../tools/onnx-writer.ts';
import { closedLoop, type LoadResult } from './load.ts';
import { weights } from './mlp-model.ts';
import { ensureBuilt, startNereid } from './processes.ts';
import { environment, printTable, summarize } from './report.ts';

const { values } = parseArgs({
  options: {
    sequences: { type: 'string', default: '16' },
    length: { type: 'string', default: '10' },
    'duration-secs': { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    json: { type: 'string' },
  },
});
const sequences = Number(values.sequences);
const length = Number(values.length);
const durationMs = Number(values['duration-secs']) * 1000;
const rounds = Number(values.rounds);
const WIDTH = 16;
/** Matrix products per run: a few milliseconds on a 2-core machine, whatever the batch size. */
const MATMULS = 24;

ensureBuilt();

/**
 * A model whose run costs about the same at any batch size, as batching pays most: a chain of
 * 128x128 matrix products seeded from the whole batch (so the runtime cannot fold it away), whose
 * result is zero and is added to OUTPUT = INPUT * READY + START.
 */
function modelBytes(): Uint8Array {
  const nodes: NodeSpec[] = [
    { opType: 'ReduceSum', inputs: ['INPUT'], outputs: ['seed'], attributes: { keepdims: 0 } },
    { opType: 'Expand', inputs: ['seed', 'square'], outputs: ['m0'] },
  ];
  for (let i = 0; i < MATMULS; i++) nodes.push({ opType: 'MatMul', inputs: [`m${i}`, 'mix'], outputs: [`m${i + 1}`] });
  nodes.push(
    { opType: 'ReduceMean', inputs: [`m${MATMULS}`], outputs: ['mean'], attributes: { keepdims: 0 } },
    { opType: 'Sub', inputs: ['mean', 'mean'], outputs: ['zero'] },
    { opType: 'Cast', inputs: ['READY'], outputs: ['ready'], attributes: { to: 1 } },
    { opType: 'Cast', inputs: ['START'], outputs: ['start'], attributes: { to: 1 } },
    { opType: 'Mul', inputs: ['INPUT', 'ready'], outputs: ['masked'] },
    { opType: 'Add', inputs: ['masked', 'start'], outputs: ['started'] },
    { opType: 'Add', inputs: ['started', 'zero'], outputs: ['OUTPUT'] },
  );
  const initializers: InitializerSpec[] = [
    { name: 'square', elemType: 'INT64', dims: [2], data: [128, 128] },
    { name: 'mix', elemType: 'FLOAT', dims: [128, 128], data: weights(128 * 128, 77, 1 / 128) },
  ];
  return writeModel({
    inputs: [
      { name: 'INPUT', elemType: 'FLOAT', shape: ['batch', WIDTH] },
      { name: 'START', elemType: 'INT32', shape: ['batch', 1] },
      { name: 'READY', elemType: 'INT32', shape: ['batch', 1] },
    ],
    outputs: [{ name: 'OUTPUT', elemType: 'FLOAT', shape: ['batch', WIDTH] }],
    nodes,
    initializers,
  });
}

const controls = `  control_input [
    { name: "START" control [ { kind: CONTROL_SEQUENCE_START int32_false_true: [ 0, 1 ] } ] },
    { name: "READY" control [ { kind: CONTROL_SEQUENCE_READY int32_false_true: [ 0, 1 ] } ] }
  ]`;
const io = `input [ { name: "INPUT" data_type: TYPE_FP32 dims: [ ${WIDTH} ] } ]
output [ { name: "OUTPUT" data_type: TYPE_FP32 dims: [ ${WIDTH} ] } ]
instance_group [ { count: 1 kind: KIND_CPU } ]`;
const configs: Record<string, string> = {
  direct_one_slot: `max_batch_size: 1\nsequence_batching {\n${controls}\n}\n${io}\n`,
  oldest: `max_batch_size: 16\nsequence_batching {\n  oldest { max_candidate_sequences: ${sequences} max_queue_delay_microseconds: 3000 }\n${controls}\n}\n${io}\n`,
};
const repo = mkdtempSync(path.join(os.tmpdir(), 'nereid-seq-bench-'));
const bytes = modelBytes();
for (const [name, config] of Object.entries(configs)) {
  mkdirSync(path.join(repo, name, '1'), { recursive: true });
  writeFileSync(path.join(repo, name, '1', 'model.onnx'), bytes);
  writeFileSync(path.join(repo, name, 'config.pbtxt'), `name: "${name}"\nplatform: "onnxruntime_onnx"\n${config}`);
}

const input = Array.from({ length: WIDTH }, (_, i) => Math.sin(i));
function post(agent: http.Agent, port: number, model: string, id: number, start: boolean, end: boolean): Promise<boolean> {
  const { body, headers } = encodeInferRequest([{ name: 'INPUT', datatype: 'FP32', shape: [1, WIDTH], data: input }], {
    binaryInputs: true, binaryOutputs: true, parameters: { sequence_id: id, sequence_start: start, sequence_end: end },
  });
  return new Promise((resolve, reject) => {
    const req = http.request({ agent, host: '127.0.0.1', port, path: `/v2/models/${model}/infer`, method: 'POST', headers: { ...headers, 'content-length': body.length } }, (res) => {
      res.on('data', () => {});
      res.on('end', () => resolve(res.statusCode === 200));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const child = await startNereid(repo, ['--allow-metrics=false']);
const agent = new http.Agent({ keepAlive: true, maxSockets: sequences });
let nextId = 1;
/** One client: sequences of `length` requests, one after another. */
const sender = (model: string) => {
  let id = nextId++;
  let step = 0;
  return async () => {
    const start = step === 0;
    const end = step === length - 1;
    const ok = await post(agent, child.port, model, id, start, end);
    step = end ? 0 : step + 1;
    if (end) id = nextId++;
    return ok;
  };
};
const results = new Map<string, LoadResult[]>();
try {
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? ['direct_one_slot', 'oldest'] : ['oldest', 'direct_one_slot'];
    for (const model of order) {
      // Clients end their sequences when the time is up: the next round starts with new ones.
      const r = await closedLoop(Array.from({ length: sequences }, () => sender(model)), durationMs, 1000);
      results.set(model, [...(results.get(model) ?? []), r]);
      process.stderr.write(`round ${round + 1}/${rounds} ${model}: ${r.throughput.toFixed(0)} req/s, p50 ${r.p50Ms.toFixed(2)} ms, errors ${r.errors}\n`);
    }
  }
} finally {
  agent.destroy();
  await child.stop();
  rmSync(repo, { recursive: true, force: true });
}

const rows = [...results].map(([name, list]) => summarize(name, list));
printTable(`sequence strategies, ${sequences} concurrent sequences of ${length}, ${rounds} x ${durationMs / 1000} s each, rounds interleaved (means)`, rows, 'direct_one_slot');
const direct = rows.find((r) => r.system === 'direct_one_slot')!;
const oldest = rows.find((r) => r.system === 'oldest')!;
const line = JSON.stringify({
  bench: 'sequence-strategies',
  ...environment(),
  command: `node --import tsx bench/sequence-strategies.ts ${process.argv.slice(2).join(' ')}`.trim(),
  sequences,
  length,
  rows,
  perRound: Object.fromEntries([...results].map(([name, list]) => [name, list.map((r) => Math.round(r.throughput))])),
  ratioOldestToDirect: oldest.throughput / direct.throughput,
});
console.log(line);
if (values.json) appendFileSync(values.json, `${line}\n`);
