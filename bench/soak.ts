/**
 * Soak: mixed valid and invalid traffic against a server for N minutes, its resident memory
 * sampled, throughput and unexpected answers counted per window; prints a table. The point is
 * flat memory: what a day of bad clients does to a server (issue 13).
 *
 *   npm run soak -- --minutes 10 [--window-secs 60] [--concurrency 8] [--root DIR]
 *
 * Starts a server from this checkout (or --root) with the default limits, on free loopback
 * ports, serving the example models, and kills it at the end. Traffic, by share of requests:
 * valid `simple` over HTTP JSON (35%) and gRPC (30%), valid BYTES to `simple_identity` (5%),
 * and invalid ones, each with the answer it must get: mutated JSON bodies (10%, a 4xx or a
 * correct 200), an unknown 100 KB model name over gRPC (5%, NOT_FOUND), a BYTES element with a
 * NUL byte for the ONNX `simple_string` (5%, INVALID_ARGUMENT), a header claiming 5M BYTES elements (4%, 413), a gzip bomb of 80 MB
 * inflated (3%, RESOURCE_EXHAUSTED), a chunked body of 70,000 one-byte chunks (3%, 413).
 * "unexpected" counts answers other than those, and failed connections.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { encodeGrpcInferRequest, encodeModelInferRequest, GrpcClient } from '../src/client/index.ts';
import { rawGrpcCall } from '../test/helpers/raw-grpc.ts';
import { startNereidSources } from './processes.ts';
import { encodeBytesElements } from '../src/bytes-elements.ts';

const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    'window-secs': { type: 'string', default: '60' },
    concurrency: { type: 'string', default: '8' },
    root: { type: 'string', default: here },
  },
});
const minutes = Number(values.minutes);
const windowSecs = Number(values['window-secs']);
const concurrency = Number(values.concurrency);
const root = path.resolve(values.root!);
if (!(minutes > 0) || !(windowSecs > 0) || !(concurrency >= 1)) throw new RangeError('--minutes, --window-secs and --concurrency must be positive');

async function start(): Promise<{ child: ChildProcess; http: number; grpc: number }> {
  const { child, ports: [http, grpc] } = await startNereidSources(root, [`--model-repository=${root}/model_repository`]);
  return { child, http, grpc };
}

const rssMb = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

const server = await start();
const base = `http://127.0.0.1:${server.http}`;
const grpcClient = new GrpcClient(`127.0.0.1:${server.grpc}`);
const session = http2.connect(`http://127.0.0.1:${server.grpc}`);
const kInfer = '/inference.GRPCInferenceService/ModelInfer';

const row = Array.from({ length: 16 }, (_, i) => i);
const simpleJson = JSON.stringify({ inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: row }, { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: row.map(() => 1) }] });
const sums = row.map((v) => v + 1);
const post = (url: string, body: string | Buffer, headers: Record<string, string> = { 'Content-Type': 'application/json' }) =>
  fetch(url, { method: 'POST', headers, body: typeof body === 'string' ? body : new Uint8Array(body), signal: AbortSignal.timeout(30_000) });
const bytesMessage = (count: number, raw: Buffer) => {
  const msg = encodeGrpcInferRequest('simple_identity', [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, count], data: [] }], {});
  msg.raw_input_contents = [raw];
  return encodeModelInferRequest(msg);
};
const bomb = zlib.gzipSync(bytesMessage(20_000_000, Buffer.alloc(80_000_000)), { level: 1 });
// A NUL inside a BYTES element for an ONNX model (simple_string): refused, since onnxruntime
// cannot carry it (simple_identity is a JavaScript model now, which takes any bytes).
const stringElements = (bad: number) => encodeBytesElements(Array.from({ length: 16 }, (_, i) => (i === bad ? 'a\0b' : '1')), 'binary');
const nulRequest = encodeGrpcInferRequest('simple_string', ['INPUT0', 'INPUT1'].map((name) => ({ name, datatype: 'BYTES', shape: [1, 16], data: [] })), {});
nulRequest.raw_input_contents = [stringElements(3), stringElements(-1)];
const nulMessage = encodeModelInferRequest(nulRequest);
const longName = encodeModelInferRequest(encodeGrpcInferRequest('m'.repeat(100 * 1024), [{ name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: row }], {}));
const claimHeader = JSON.stringify({ inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, 5_000_000], parameters: { binary_data_size: 20_000_000 } }] });
const flood = `POST /v2/models/simple_identity/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${'1\r\n \r\n'.repeat(70_000)}0\r\n\r\n`;

function mutated(): string {
  const b = Buffer.from(simpleJson);
  for (let k = 1 + Math.floor(Math.random() * 3); k > 0; k--) b[Math.floor(Math.random() * b.length)] ^= 1 + Math.floor(Math.random() * 255);
  return b.toString('latin1');
}

function chunkFlood(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(server.http, '127.0.0.1');
    let answer = '';
    const done = () => resolve(answer.startsWith('HTTP/1.1 413'));
    socket.on('data', (d) => {
      answer += d.toString('latin1');
      if (answer.includes('\r\n')) socket.destroy();
    });
    socket.on('close', done);
    socket.on('error', () => {});
    socket.end(flood);
  });
}

/** One request of each kind: resolves true when the answer is the one it must get. */
const kinds: [number, string, () => Promise<boolean>][] = [
  [35, 'valid', async () => {
    const res = await post(`${base}/v2/models/simple/infer`, simpleJson);
    const answer = (await res.json()) as { outputs: { name: string; data: number[] }[] };
    return res.status === 200 && answer.outputs.find((o) => o.name === 'OUTPUT0')!.data.every((v, i) => v === sums[i]);
  }],
  [30, 'valid', async () => {
    const r = await grpcClient.infer('simple', [{ name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: row }, { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: row.map(() => 1) }]);
    return Array.from(r.outputs[0].data as Int32Array).every((v, i) => v === sums[i]);
  }],
  [5, 'valid', async () => {
    const res = await post(`${base}/v2/models/simple_identity/infer`, JSON.stringify({ inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, 2], data: ['é', '😀'] }] }));
    return res.status === 200 && JSON.stringify(((await res.json()) as { outputs: { data: string[] }[] }).outputs[0].data) === '["é","😀"]';
  }],
  [10, 'invalid', async () => {
    const body = mutated();
    const res = await post(`${base}/v2/models/simple/infer`, Buffer.from(body, 'latin1'));
    await res.arrayBuffer();
    return (res.status >= 400 && res.status < 500) || res.status === 200;
  }],
  [5, 'invalid', async () => {
    try {
      await grpcClient.modelInfer(longName);
      return false;
    } catch (err) {
      return (err as grpc.ServiceError).code === grpc.status.NOT_FOUND && (err as grpc.ServiceError).details.length < 200;
    }
  }],
  [5, 'invalid', async () => {
    const answer = await rawGrpcCall(session, kInfer, nulMessage);
    return answer.status === grpc.status.INVALID_ARGUMENT && /BYTES element 3 contains a NUL byte/.test(answer.message);
  }],
  [4, 'invalid', async () => {
    const header = Buffer.from(claimHeader);
    const res = await post(`${base}/v2/models/simple_identity/infer`, Buffer.concat([header, Buffer.alloc(16)]), { 'Inference-Header-Content-Length': String(header.length), 'Content-Type': 'application/octet-stream' });
    await res.arrayBuffer();
    return res.status === 413;
  }],
  [3, 'invalid', async () => (await rawGrpcCall(session, kInfer, bomb, 'gzip')).status === grpc.status.RESOURCE_EXHAUSTED],
  [3, 'invalid', chunkFlood],
];
const total = kinds.reduce((n, [w]) => n + w, 0);
function pick(): [string, () => Promise<boolean>] {
  let r = Math.random() * total;
  for (const [w, kind, run] of kinds) {
    if ((r -= w) < 0) return [kind, run];
  }
  return [kinds[0][1], kinds[0][2]];
}

interface Window { valid: number; invalid: number; unexpected: number; rssSamples: number[] }
const newWindow = (): Window => ({ valid: 0, invalid: 0, unexpected: 0, rssSamples: [] });
let current = newWindow();
const windows: Window[] = [];
const endAt = Date.now() + minutes * 60_000;
const startRss = rssMb(server.child.pid!);

const sampler = setInterval(() => current.rssSamples.push(rssMb(server.child.pid!)), 5000);
const roller = setInterval(() => {
  current.rssSamples.push(rssMb(server.child.pid!));
  windows.push(current);
  const w = current;
  current = newWindow();
  const n = windows.length;
  console.log(`| ${n} | ${(n * windowSecs / 60).toFixed(1)} | ${(w.valid / windowSecs).toFixed(0)} | ${(w.invalid / windowSecs).toFixed(0)} | ${w.unexpected} | ${w.rssSamples.at(-1)!.toFixed(0)} | ${Math.max(...w.rssSamples).toFixed(0)} |`);
}, windowSecs * 1000);

console.log(`soak: ${minutes} min, windows of ${windowSecs} s, ${concurrency} clients; server ${root} (pid ${server.child.pid}), ${os.cpus().length} CPUs, Node ${process.version}; RSS at start ${startRss.toFixed(0)} MB`);
console.log('| window | minutes | valid/s | invalid/s | unexpected | RSS at end (MB) | peak RSS in window (MB) |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
await Promise.all(Array.from({ length: concurrency }, async () => {
  while (Date.now() < endAt) {
    const [kind, run] = pick();
    let ok: boolean;
    try {
      ok = await run();
    } catch {
      ok = false;
    }
    if (kind === 'valid') current.valid++;
    else current.invalid++;
    if (!ok) current.unexpected++;
  }
}));
clearInterval(sampler);
clearInterval(roller);
const all = windows.flatMap((w) => w.rssSamples);
console.log(JSON.stringify({
  command: `npm run soak -- ${process.argv.slice(2).join(' ')}`, minutes, windowSecs, concurrency, node: process.version,
  rssStartMb: Math.round(startRss), rssFirstWindowEndMb: Math.round(windows[0]?.rssSamples.at(-1) ?? 0), rssLastWindowEndMb: Math.round(windows.at(-1)?.rssSamples.at(-1) ?? 0),
  rssMaxMb: Math.round(Math.max(...all)), requests: windows.reduce((n, w) => n + w.valid + w.invalid, 0), unexpected: windows.reduce((n, w) => n + w.unexpected, 0),
}));
grpcClient.close();
session.close();
server.child.kill('SIGTERM');
