/**
 * `simple` over gRPC against `simple` over HTTP, on one Nereid server, in one run on one
 * machine, at the same number of concurrent clients. The server runs in a child process, as
 * `npm start` runs it (compiled, from dist/); the load runs in this one. Rounds alternate
 * between the systems so drift in the machine's load hits each. Prints a table and one JSON line.
 * The gRPC clients are described in grpc-load.ts; 'grpc unary h2 /6' spreads the clients over
 * one connection per 6, as Triton's C++ client library does. With --h2load, HTTP JSON and unary
 * gRPC are also measured with h2load (bench/h2load.ts), a load generator in C that costs the
 * same little over either protocol, so the ratio is the server's own.
 *
 *   node --import tsx bench/grpc-vs-http.ts --concurrency 16 --duration-secs 5 --rounds 3
 *   node --import tsx bench/grpc-vs-http.ts --server-cpus 1 --client-cpus 0   # each its own core
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { encodeGrpcInferRequest, encodeInferRequest, encodeModelInferRequest } from '../src/client/index.ts';
import { grpcFrame, runGrpcLoad } from './grpc-load.ts';
import { runLoad, type LoadResult } from './load.ts';
import { h2loadAvailable, runH2load } from './h2load.ts';
import { ensureBuilt, pinCpus } from './processes.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '16' },
    'duration-secs': { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    'server-cpus': { type: 'string' },
    'client-cpus': { type: 'string' },
    h2load: { type: 'boolean', default: false },
  },
});
const concurrency = Number(values.concurrency);
const durationMs = Number(values['duration-secs']) * 1000;
const rounds = Number(values.rounds);
// Give the server and this load generator their own cores (taskset), as the suites can.
const serverCpus = values['server-cpus'] ?? null;
pinCpus(serverCpus, values['client-cpus'] ?? null);
if (values.h2load && !h2loadAvailable()) throw new Error('--h2load needs h2load on the PATH (Debian: apt-get install nghttp2-client)');

/** Starts Nereid and resolves once it has printed both ports. */
function startNereid(): Promise<{ child: ChildProcess; http: number; grpc: number }> {
  const args = ['dist/main.js', '--model-repository', 'model_repository',
    '--http-address', '127.0.0.1', '--http-port', '0', '--grpc-address', '127.0.0.1', '--grpc-port', '0'];
  return new Promise((resolve, reject) => {
    const child = serverCpus === null
      ? spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })
      : spawn('taskset', ['-c', serverCpus, process.execPath, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const http = /Started HTTPService at [^\n]*:(\d+)/.exec(out);
      const grpc = /Started GRPCInferenceService at [^\n]*:(\d+)/.exec(out);
      if (http && grpc) resolve({ child, http: Number(http[1]), grpc: Number(grpc[1]) });
    });
    child.on('exit', (code) => reject(new Error(`nereid exited with ${code}:\n${out}`)));
  });
}

const tensors = [
  { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, (_, i) => i) },
  { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, () => 1) },
];
const json = encodeInferRequest(tensors, {});
const binary = encodeInferRequest(tensors, { binaryInputs: true, binaryOutputs: true });
const grpcRequest = encodeGrpcInferRequest('simple', tensors, {});

/** CPU seconds the server process has used, all threads (Linux /proc; NaN elsewhere). */
function serverCpuSecs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 10 ms
  } catch {
    return NaN;
  }
}

ensureBuilt();
const server = await startNereid();

/**
 * `simple`'s inference, execution and failure counts (statistics extension): the first two give
 * the mean batch size, the last the failed requests whatever the client noticed.
 */
async function simpleCounts(): Promise<{ inferences: number; executions: number; failures: number }> {
  const res = await fetch(`http://127.0.0.1:${server.http}/v2/models/simple/stats`);
  const stats = (await res.json()) as { model_stats: { inference_count: number; execution_count: number; inference_stats: { fail: { count: number } } }[] };
  const m = stats.model_stats[0];
  return { inferences: m.inference_count, executions: m.execution_count, failures: m.inference_stats.fail.count };
}

/** `external`: the load comes from another process (h2load), so this one's CPU says nothing. */
const systems: { name: string; run: () => Promise<LoadResult>; external?: boolean }[] = [
  { name: 'http json', run: () => runLoad({ url: `http://127.0.0.1:${server.http}/v2/models/simple/infer`, body: json.body, headers: json.headers, concurrency, durationMs }) },
  { name: 'http binary', run: () => runLoad({ url: `http://127.0.0.1:${server.http}/v2/models/simple/infer`, body: binary.body, headers: binary.headers, concurrency, durationMs }) },
  { name: 'grpc unary stub', run: () => runGrpcLoad({ address: `127.0.0.1:${server.grpc}`, request: grpcRequest, mode: 'unary-stub', concurrency, durationMs }) },
  { name: 'grpc unary', run: () => runGrpcLoad({ address: `127.0.0.1:${server.grpc}`, request: grpcRequest, mode: 'unary', concurrency, durationMs }) },
  { name: 'grpc unary h2', run: () => runGrpcLoad({ address: `127.0.0.1:${server.grpc}`, request: grpcRequest, mode: 'unary-h2', concurrency, durationMs }) },
  // Triton's C++ client library (which perf_analyzer uses) shares one channel, so one HTTP/2
  // connection, among at most 6 clients: 16 clients use 3 connections.
  { name: 'grpc unary h2 /6', run: () => runGrpcLoad({ address: `127.0.0.1:${server.grpc}`, request: grpcRequest, mode: 'unary-h2', concurrency, durationMs, connections: Math.ceil(concurrency / 6) }) },
  { name: 'grpc stream', run: () => runGrpcLoad({ address: `127.0.0.1:${server.grpc}`, request: grpcRequest, mode: 'stream', concurrency, durationMs }) },
  ...(values.h2load ? [
    { name: 'h2load http json', run: () => runH2load({ url: `http://127.0.0.1:${server.http}/v2/models/simple/infer`, body: json.body, headers: json.headers, http1: true, connections: concurrency, streamsPerConnection: 1, durationMs }), external: true },
    // One connection with every call on it, as one grpc-js channel carries them.
    { name: 'h2load grpc unary', run: () => runH2load({ url: `http://127.0.0.1:${server.grpc}/inference.GRPCInferenceService/ModelInfer`, body: grpcFrame(encodeModelInferRequest(grpcRequest)), headers: { 'content-type': 'application/grpc', te: 'trailers' }, http1: false, connections: 1, streamsPerConnection: concurrency, durationMs }), external: true },
  ] : []),
];
const results = new Map<string, (LoadResult & { serverCpuUsPerRequest: number; clientCpuUsPerRequest: number; meanBatch: number; serverFailures: number })[]>();
try {
  for (let round = 0; round < rounds; round++) {
    for (const s of systems) {
      const counts0 = await simpleCounts();
      const cpu0 = serverCpuSecs(server.child.pid!);
      const client0 = process.cpuUsage();
      const load = await s.run();
      const client = process.cpuUsage(client0);
      const counts = await simpleCounts();
      // CPU per answered request on each side; the warm-up second is counted in both the CPU
      // and (scaled) the requests, so these are ratios of work, not times.
      const answered = load.requests * (1 + 1000 / durationMs);
      const r = {
        ...load,
        serverCpuUsPerRequest: ((serverCpuSecs(server.child.pid!) - cpu0) * 1e6) / answered,
        clientCpuUsPerRequest: s.external ? NaN : (client.user + client.system) / answered,
        // Fewer requests queued at once (a client slow to send) means smaller batches, and
        // more server work per request.
        meanBatch: (counts.inferences - counts0.inferences) / (counts.executions - counts0.executions),
        // Failed requests as the server counts them (h2load sees only HTTP statuses).
        serverFailures: counts.failures - counts0.failures,
      };
      results.set(s.name, [...(results.get(s.name) ?? []), r]);
      process.stderr.write(`round ${round + 1}/${rounds} ${s.name}: ${r.throughput.toFixed(0)} req/s, p50 ${r.p50Ms.toFixed(2)} ms, server CPU ${r.serverCpuUsPerRequest.toFixed(0)} us/request, client CPU ${r.clientCpuUsPerRequest.toFixed(0)} us/request, mean batch ${r.meanBatch.toFixed(1)}, errors ${r.errors}, server failures ${r.serverFailures}\n`);
    }
  }
} finally {
  await new Promise<void>((resolve) => {
    server.child.removeAllListeners('exit');
    server.child.on('exit', () => resolve());
    server.child.kill('SIGTERM');
  });
}

const summary = [...results].map(([name, list]) => {
  const mean = (f: (r: (typeof list)[number]) => number) => list.reduce((n, r) => n + f(r), 0) / list.length;
  return { system: name, throughput: mean((r) => r.throughput), serverCpuUsPerRequest: mean((r) => r.serverCpuUsPerRequest), clientCpuUsPerRequest: mean((r) => r.clientCpuUsPerRequest), meanBatch: mean((r) => r.meanBatch), p50Ms: mean((r) => r.p50Ms), p90Ms: mean((r) => r.p90Ms), p99Ms: mean((r) => r.p99Ms), errors: list.reduce((n, r) => n + r.errors, 0), serverFailures: list.reduce((n, r) => n + r.serverFailures, 0) };
});
const httpJson = summary.find((s) => s.system === 'http json')!.throughput;
console.log(`\nsimple on one Nereid server, ${concurrency} concurrent clients, ${rounds} x ${durationMs / 1000} s per system\n`);
const fixed = (n: number, digits: number) => (Number.isNaN(n) ? '-' : n.toFixed(digits));
console.log('system               req/s     p50 ms   p90 ms   p99 ms   server CPU us/req   client CPU us/req   mean batch   failed   vs http json');
for (const s of summary) {
  console.log(`${s.system.padEnd(17)} ${s.throughput.toFixed(0).padStart(8)} ${fixed(s.p50Ms, 2).padStart(9)} ${fixed(s.p90Ms, 2).padStart(8)} ${fixed(s.p99Ms, 2).padStart(8)} ${s.serverCpuUsPerRequest.toFixed(0).padStart(19)} ${fixed(s.clientCpuUsPerRequest, 0).padStart(19)} ${s.meanBatch.toFixed(1).padStart(12)} ${String(s.errors + s.serverFailures).padStart(8)} ${(s.throughput / httpJson).toFixed(2).padStart(12)}x`);
}
const h2loadJson = summary.find((s) => s.system === 'h2load http json');
const h2loadGrpc = summary.find((s) => s.system === 'h2load grpc unary');
if (h2loadJson && h2loadGrpc) console.log(`\nwith h2load on both: unary gRPC / HTTP JSON = ${(h2loadGrpc.throughput / h2loadJson.throughput).toFixed(2)}x`);
console.log(JSON.stringify({
  bench: 'grpc-vs-http-simple',
  command: `node --import tsx bench/grpc-vs-http.ts ${process.argv.slice(2).join(' ')}`.trim(),
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30) },
  node: process.version,
  onnxruntime: ort.env.versions.common,
  concurrency,
  pinning: { server: serverCpus, client: values['client-cpus'] ?? null },
  results: summary.map((s) => ({ ...s, ratioToHttpJson: s.throughput / httpJson })),
  ...(h2loadJson && h2loadGrpc ? { h2loadGrpcToHttpJson: h2loadGrpc.throughput / h2loadJson.throughput } : {}),
}));
