/**
 * Nereid against the naive server, in one run on one machine: `simple` over HTTP JSON (and
 * Nereid over binary HTTP too) at a given number of concurrent clients. Each server runs in its
 * own process; the load runs in this one. Rounds alternate between the systems so drift in the
 * machine's load hits both. Prints a table and one JSON line.
 *
 *   npm run bench -- --concurrency 16 --duration-secs 5 --rounds 2
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { encodeInferRequest } from '../src/client/index.ts';
import { runLoad, type LoadResult } from './load.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const { values } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '16' },
    'duration-secs': { type: 'string', default: '5' },
    rounds: { type: 'string', default: '2' },
  },
});
const concurrency = Number(values.concurrency);
const durationMs = Number(values['duration-secs']) * 1000;
const rounds = Number(values.rounds);

/** Starts a child process and resolves with the port it prints on the line matching `pattern`. */
function startChild(args: string[], pattern: RegExp): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = pattern.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}:\n${out}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.on('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

const input0 = Array.from({ length: 16 }, (_, i) => i);
const input1 = Array.from({ length: 16 }, () => 1);
const tensors = [
  { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: input0 },
  { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: input1 },
];
const jsonRequest = encodeInferRequest(tensors, {});
const binaryRequest = encodeInferRequest(tensors, { binaryInputs: true, binaryOutputs: true });

const nereid = await startChild(['src/main.ts', '--model-repository', 'model_repository', '--http-address', '127.0.0.1', '--http-port', '0'], /Started HTTPService at [^:]+:(\d+)/);
const naive = await startChild(['bench/naive-server.ts', '--model', 'model_repository/simple/1/model.onnx', '--port', '0'], /listening on [^:]+:(\d+)/);

const systems = [
  { name: 'nereid http-json', port: nereid.port, request: jsonRequest },
  { name: 'nereid http-binary', port: nereid.port, request: binaryRequest },
  { name: 'naive fastify route', port: naive.port, request: jsonRequest },
];
const results = new Map<string, LoadResult[]>();
try {
  for (let round = 0; round < rounds; round++) {
    for (const s of systems) {
      const r = await runLoad({
        url: `http://127.0.0.1:${s.port}/v2/models/simple/infer`,
        body: s.request.body,
        headers: s.request.headers,
        concurrency,
        durationMs,
      });
      results.set(s.name, [...(results.get(s.name) ?? []), r]);
      process.stderr.write(`round ${round + 1}/${rounds} ${s.name}: ${r.throughput.toFixed(0)} req/s, p50 ${r.p50Ms.toFixed(2)} ms, errors ${r.errors}\n`);
    }
  }
} finally {
  await Promise.all([stop(nereid.child), stop(naive.child)]);
}

/** Mean over rounds of each figure. */
const summary = [...results].map(([name, list]) => {
  const mean = (f: (r: LoadResult) => number) => list.reduce((n, r) => n + f(r), 0) / list.length;
  return { system: name, throughput: mean((r) => r.throughput), p50Ms: mean((r) => r.p50Ms), p90Ms: mean((r) => r.p90Ms), p99Ms: mean((r) => r.p99Ms), errors: list.reduce((n, r) => n + r.errors, 0) };
});
const naiveThroughput = summary.find((s) => s.system === 'naive fastify route')!.throughput;
console.log(`\nsimple over HTTP, ${concurrency} concurrent clients, ${rounds} x ${durationMs / 1000} s per system\n`);
console.log('system                  req/s     p50 ms   p90 ms   p99 ms   vs naive');
for (const s of summary) {
  console.log(`${s.system.padEnd(22)} ${s.throughput.toFixed(0).padStart(7)} ${s.p50Ms.toFixed(2).padStart(9)} ${s.p90Ms.toFixed(2).padStart(8)} ${s.p99Ms.toFixed(2).padStart(8)} ${(s.throughput / naiveThroughput).toFixed(2).padStart(9)}x`);
}
console.log(JSON.stringify({
  bench: 'http-simple',
  command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30) },
  node: process.version,
  onnxruntime: ort.env.versions.common,
  concurrency,
  results: summary.map((s) => ({ ...s, ratioToNaive: s.throughput / naiveThroughput })),
}));
