/**
 * `node --import tsx bench/shm-vs-http.ts [--requests N] [--rounds R] [--memory-requests M] [--memory-warmup W]`
 *
 * System shared memory against the binary HTTP body, in one run on this machine: an identity
 * model on one 4 MiB FP32 tensor, one client in a closed loop, Nereid in a child process.
 *
 * - binary HTTP body: the client sends the tensor in the body and receives the output in the
 *   answer (binary tensor extension both ways).
 * - shm, tensors in place: the tensor is written into the region once and the output is left
 *   there, as Triton's perf_analyzer measures shared memory, and as a C++ or Python client that
 *   maps the region (and reads outputs through a view of the mapping) pays per request.
 * - shm, client copies: a Node.js client, which cannot map memory, writes the tensor into the
 *   region before each request and reads the output back after it (into one reused buffer).
 *
 * Rounds alternate between the three, each system on its own connection, on a fresh server.
 * Then, on a second fresh server that sees no HTTP inference at all, M requests through shared
 * memory after W warm-up requests, with the server's resident memory (VmRSS) sampled every 100
 * and its peak (VmHWM) before and after: flat means no per-request growth. The warm-up is long
 * because the heaps take about 1000 requests of 4 MiB tensors to reach their working size (the
 * worker's runtime output buffers are collected in batches, so VmRSS saws by a few of them).
 * Two servers, because earlier traffic of any kind (even small JSON requests) makes this server
 * slower at 4 MiB HTTP bodies afterwards, which would flatter shared memory.
 *
 * Prints a table and one JSON line (the command, the machine, the versions, the figures).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { encodeInferRequest, SharedMemoryRegion } from '../src/client/index.ts';
import { writeModel } from '../tools/onnx-writer.ts';
import { BENCH_REPO } from './mlp-model.ts';
import { ensureBuilt, startNereid } from './processes.ts';
import { environment } from './report.ts';

ensureBuilt(); // the server runs from dist/, as `npm start` runs it

const ELEMENTS = 1024 * 1024; // 4 MiB of FP32
const BYTES = ELEMENTS * 4;
const MODEL = 'identity_4mib';
const REPO = path.join(BENCH_REPO, 'shm-repo');

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '2' },
    'memory-requests': { type: 'string', default: '500' },
    'memory-warmup': { type: 'string', default: '1000' },
  },
});
const requests = Number(values.requests);
const rounds = Number(values.rounds);
const memoryRequests = Number(values['memory-requests']);
const memoryWarmup = Number(values['memory-warmup']);

/** bench/models/shm-repo/identity_4mib: FP32 INPUT0 [batch, 1Mi] → Identity → OUTPUT0, one thread. */
function ensureModel(): void {
  const dir = path.join(REPO, MODEL);
  mkdirSync(path.join(dir, '1'), { recursive: true });
  writeFileSync(path.join(dir, '1', 'model.onnx'), writeModel({
    inputs: [{ name: 'INPUT0', elemType: 'FLOAT', shape: ['batch', ELEMENTS] }],
    outputs: [{ name: 'OUTPUT0', elemType: 'FLOAT', shape: ['batch', ELEMENTS] }],
    nodes: [{ opType: 'Identity', inputs: ['INPUT0'], outputs: ['OUTPUT0'] }],
  }));
  writeFileSync(path.join(dir, 'config.pbtxt'), `name: "${MODEL}"
platform: "onnxruntime_onnx"
max_batch_size: 1
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ ${ELEMENTS} ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ ${ELEMENTS} ] } ]
instance_group [ { count: 1 kind: KIND_CPU } ]
parameters { key: "intra_op_thread_count" value { string_value: "1" } }
`);
}

interface Answer {
  readonly status: number;
  readonly body: Buffer;
}

function post(agent: http.Agent, port: number, urlPath: string, body: Buffer, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ agent, host: '127.0.0.1', port, path: urlPath, method: 'POST', headers: { ...headers, 'content-length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** VmHWM (peak) and VmRSS of a process, in MiB. */
function memoryOf(pid: number): { peakMiB: number; rssMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)![1]);
  return { peakMiB: kib('VmHWM') / 1024, rssMiB: kib('VmRSS') / 1024 };
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))];

/** A fresh server with client shared memory on, a registered 8 MiB region, and the three clients. */
async function setUp() {
  const server = await startNereid(REPO, ['--allow-client-shm=true']);
  // One connection per kind of client, as a real client is one or the other: a connection that
  // carried hundreds of small shared-memory requests then moves 4 MiB bodies measurably slower.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1, noDelay: true });
  const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 1, noDelay: true });
  const region = SharedMemoryRegion.create(`/nereid-bench-${process.pid}-${server.port}`, 2 * BYTES);
  const input = Buffer.from(Float32Array.from({ length: ELEMENTS }, (_, i) => (i % 1000) / 7).buffer);
  const output = Buffer.alloc(BYTES); // the shared-memory client reads every answer into this one buffer
  const inferPath = `/v2/models/${MODEL}/infer`;
  const tearDown = async () => {
    agent.destroy();
    httpAgent.destroy();
    region.destroy();
    await server.stop();
  };
  try {
    const register = await post(agent, server.port, '/v2/systemsharedmemory/region/bench/register', Buffer.from(JSON.stringify({ key: region.key, offset: 0, byte_size: 2 * BYTES })), { 'content-type': 'application/json' });
    if (register.status !== 200) throw new Error(`register: ${register.status} ${register.body}`);
  } catch (err) {
    await tearDown();
    throw err;
  }
  const shmRequest = encodeInferRequest([{ name: 'INPUT0', datatype: 'FP32', shape: [1, ELEMENTS], sharedMemory: { region: 'bench', byteSize: BYTES } }], {
    outputs: [{ name: 'OUTPUT0', sharedMemory: { region: 'bench', offset: BYTES, byteSize: BYTES } }],
  });
  const httpRequest = encodeInferRequest([{ name: 'INPUT0', datatype: 'FP32', shape: [1, ELEMENTS], data: new Float32Array(input.buffer) }], { binaryInputs: true, binaryOutputs: true });
  region.write(input, 0);
  const viaShmInPlace = async (): Promise<void> => {
    const res = await post(agent, server.port, inferPath, shmRequest.body, shmRequest.headers);
    if (res.status !== 200) throw new Error(`shm infer: ${res.status} ${res.body}`);
  };
  const viaShm = async (): Promise<void> => {
    region.write(input, 0);
    await viaShmInPlace();
    region.readInto(output, BYTES);
    if (output.readFloatLE(BYTES - 4) !== input.readFloatLE(BYTES - 4)) throw new Error('shm output differs from the input');
  };
  const viaHttp = async (): Promise<void> => {
    const res = await post(httpAgent, server.port, inferPath, httpRequest.body, httpRequest.headers);
    if (res.status !== 200) throw new Error(`http infer: ${res.status} ${res.body}`);
    const out = res.body.subarray(res.body.length - BYTES);
    if (out.readFloatLE(BYTES - 4) !== input.readFloatLE(BYTES - 4)) throw new Error('http output differs from the input');
  };
  return { pid: server.child.pid!, systems: { 'shm, tensors in place': viaShmInPlace, 'shm, client copies': viaShm, 'binary HTTP body': viaHttp }, tearDown };
}

type Name = 'shm, tensors in place' | 'shm, client copies' | 'binary HTTP body';

/** Requests per second and latency quantiles of each system, rounds alternating between them. */
async function compareThroughput() {
  const { systems, tearDown } = await setUp();
  try {
    for (const run of Object.values(systems)) for (let i = 0; i < 20; i++) await run(); // warm-up
    const perSecond = { 'shm, tensors in place': [], 'shm, client copies': [], 'binary HTTP body': [] } as Record<Name, number[]>;
    const latencies = { 'shm, tensors in place': [], 'shm, client copies': [], 'binary HTTP body': [] } as Record<Name, number[]>;
    for (let round = 0; round < rounds; round++) {
      for (const [name, run] of Object.entries(systems) as [Name, () => Promise<void>][]) {
        const start = process.hrtime.bigint();
        for (let i = 0; i < requests; i++) {
          const t0 = process.hrtime.bigint();
          await run();
          latencies[name].push(Number(process.hrtime.bigint() - t0) / 1e6);
        }
        const seconds = Number(process.hrtime.bigint() - start) / 1e9;
        perSecond[name].push(requests / seconds);
        process.stderr.write(`round ${round + 1}/${rounds} ${name}: ${(requests / seconds).toFixed(1)} req/s\n`);
      }
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    return (Object.keys(perSecond) as Name[]).map((name) => ({
      system: name,
      requestsPerSecond: mean(perSecond[name]),
      p10Ms: quantile(latencies[name], 0.1),
      p50Ms: quantile(latencies[name], 0.5),
      p90Ms: quantile(latencies[name], 0.9),
    }));
  } finally {
    await tearDown();
  }
}

/** The server's VmRSS and VmHWM across M shared-memory requests (with client copies). */
async function measureMemory() {
  const { pid, systems, tearDown } = await setUp();
  try {
    const run = systems['shm, client copies'];
    for (let i = 0; i < memoryWarmup; i++) await run();
    const before = memoryOf(pid);
    const rssEvery100MiB: number[] = [];
    for (let i = 1; i <= memoryRequests; i++) {
      await run();
      if (i % 100 === 0) rssEvery100MiB.push(Number(memoryOf(pid).rssMiB.toFixed(1)));
    }
    return { requests: memoryRequests, warmup: memoryWarmup, before, after: memoryOf(pid), rssEvery100MiB };
  } finally {
    await tearDown();
  }
}

async function main(): Promise<void> {
  ensureModel();
  const rows = await compareThroughput();
  const memory = await measureMemory();
  console.log(`\n${MODEL} (FP32 [1, ${ELEMENTS}], 4 MiB in and out), one client, ${rounds} x ${requests} requests per system\n`);
  console.log(`${'system'.padEnd(24)} ${'req/s'.padStart(8)} ${'p10 ms'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p90 ms'.padStart(8)}`);
  for (const r of rows) console.log(`${r.system.padEnd(24)} ${r.requestsPerSecond.toFixed(1).padStart(8)} ${r.p10Ms.toFixed(2).padStart(8)} ${r.p50Ms.toFixed(2).padStart(8)} ${r.p90Ms.toFixed(2).padStart(8)}`);
  const httpRate = rows[2].requestsPerSecond;
  const ratios = { inPlace: rows[0].requestsPerSecond / httpRate, clientCopies: rows[1].requestsPerSecond / httpRate };
  console.log(`\nshared memory / binary HTTP: ${ratios.inPlace.toFixed(2)}x with tensors in place, ${ratios.clientCopies.toFixed(2)}x with client copies`);
  console.log(`server memory over ${memory.requests} shared-memory requests after ${memory.warmup} to warm up: VmRSS ${memory.before.rssMiB.toFixed(1)} → ${memory.after.rssMiB.toFixed(1)} MiB (every 100: ${memory.rssEvery100MiB.join(', ')}), VmHWM ${memory.before.peakMiB.toFixed(1)} → ${memory.after.peakMiB.toFixed(1)} MiB\n`);
  console.log(JSON.stringify({
    bench: 'shm-vs-http',
    ...environment(),
    command: `node --import tsx bench/shm-vs-http.ts ${process.argv.slice(2).join(' ')}`.trim(),
    model: MODEL,
    tensorBytes: BYTES,
    rows,
    ratios,
    memory,
  }));
}

await main();
