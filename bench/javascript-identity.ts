/**
 * `node --import tsx bench/javascript-identity.ts [--duration-secs 3] [--rounds 3] [--clients 16] [--json FILE]`
 *
 * What a model written in JavaScript costs against the same model in ONNX: simple_identity (the
 * JavaScript identity, model_repository/) and string_identity (the ONNX Identity it replaced,
 * test/fixtures/models/), both with max_batch_size 8, one instance and no dynamic batching, in
 * one server, at N clients over keep-alive HTTP with the binary tensor extension: each request
 * one row of 16 BYTES elements of 16 bytes. Rounds interleave the two models (each round starts
 * with the other). The target (issue 16) is the JavaScript model at most 1.2x the ONNX model's
 * cost at 16 clients. Prints a table and one JSON line.
 */
import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { encodeBytesElements } from '../src/bytes-elements.ts';
import { closedLoop, type LoadResult } from './load.ts';
import { ensureBuilt, ROOT, startNereid } from './processes.ts';
import { environment, printTable, summarize } from './report.ts';

const { values } = parseArgs({
  options: {
    'duration-secs': { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    clients: { type: 'string', default: '16' },
    json: { type: 'string' },
  },
});
const durationMs = Number(values['duration-secs']) * 1000;
const rounds = Number(values.rounds);
const clients = Number(values.clients);

ensureBuilt();

const repo = mkdtempSync(path.join(os.tmpdir(), 'nereid-js-bench-'));
cpSync(path.join(ROOT, 'model_repository', 'simple_identity'), path.join(repo, 'simple_identity'), { recursive: true });
cpSync(path.join(ROOT, 'test', 'fixtures', 'models', 'string_identity'), path.join(repo, 'string_identity'), { recursive: true });

const words = Array.from({ length: 16 }, (_, i) => `word-${String(i).padStart(2, '0')}-abcdefg`.slice(0, 16));
const data = encodeBytesElements(words);
const json = Buffer.from(JSON.stringify({
  inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, words.length], parameters: { binary_data_size: data.length } }],
  outputs: [{ name: 'OUTPUT0', parameters: { binary_data: true } }],
}));
const body = Buffer.concat([json, data]);
const headers = { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(json.length), 'content-length': String(body.length) };

function post(agent: http.Agent, port: number, model: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const req = http.request({ agent, host: '127.0.0.1', port, path: `/v2/models/${model}/infer`, method: 'POST', headers }, (res) => {
      res.on('data', () => {});
      res.on('end', () => resolve(res.statusCode === 200));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const child = await startNereid(repo, ['--allow-metrics=false']);
const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
const models: Record<string, string> = { onnx: 'string_identity', javascript: 'simple_identity' };
const results = new Map<string, LoadResult[]>();
try {
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? ['onnx', 'javascript'] : ['javascript', 'onnx'];
    for (const mode of order) {
      const senders = Array.from({ length: clients }, () => () => post(agent, child.port, models[mode]));
      const r = await closedLoop(senders, durationMs, 500);
      results.set(mode, [...(results.get(mode) ?? []), r]);
      process.stderr.write(`round ${round + 1}/${rounds} ${mode}: ${r.throughput.toFixed(0)} req/s, p50 ${r.p50Ms.toFixed(3)} ms, errors ${r.errors}\n`);
    }
  }
} finally {
  agent.destroy();
  await child.stop();
  rmSync(repo, { recursive: true, force: true });
}

const rows = [...results].map(([name, list]) => summarize(name, list));
printTable(`identity of 16 BYTES elements over HTTP binary, ${clients} clients, ${rounds} x ${durationMs / 1000} s per model, rounds interleaved (means)`, rows, 'onnx');
const onnx = rows.find((r) => r.system === 'onnx')!;
const js = rows.find((r) => r.system === 'javascript')!;
const line = JSON.stringify({
  bench: 'javascript-identity',
  ...environment(),
  command: `node --import tsx bench/javascript-identity.ts ${process.argv.slice(2).join(' ')}`.trim(),
  rows,
  perRound: Object.fromEntries([...results].map(([name, list]) => [name, list.map((r) => Math.round(r.throughput))])),
  costJavascriptToOnnx: onnx.throughput / js.throughput,
});
console.log(line);
if (values.json) appendFileSync(values.json, `${line}\n`);
