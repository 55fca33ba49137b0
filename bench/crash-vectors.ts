/**
 * Issue 13's crash vectors, replayed against a server started from a given checkout, one fresh
 * server per vector: the answer, the seconds to it, the server's resident memory before and its
 * peak (VmHWM), and whether the next request is answered. Run it against main for "before" and
 * against this checkout for "after":
 *
 *   npm run crash-vectors -- --root=/path/to/checkout --elements=4000000 --chunks=1000000
 *
 * --elements: empty BYTES elements in the gRPC gzip bomb, the HTTP binary request and the
 * shared-memory request; --chunks: one-byte chunks in the chunked HTTP body. Prints one table
 * row per vector, then a JSON line. Sizes that took a server past 6 GB in the issue are not the
 * defaults here: the machine is shared.
 */
import type { ChildProcess } from 'node:child_process';
import { closeSync, ftruncateSync, openSync, readFileSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';
import { encodeGrpcInferRequest, encodeModelInferRequest } from '../src/client/index.ts';
import { rawGrpcCall } from '../test/helpers/raw-grpc.ts';
import { startNereidSources } from './processes.ts';

const { values } = parseArgs({ options: { root: { type: 'string', default: process.cwd() }, elements: { type: 'string', default: '4000000' }, chunks: { type: 'string', default: '1000000' }, only: { type: 'string' } } });
const root = path.resolve(values.root!);
const elements = Number(values.elements);
const chunks = Number(values.chunks);

interface Server {
  readonly child: ChildProcess;
  readonly http: number;
  readonly grpc: number;
}

async function start(): Promise<Server> {
  const { child, ports: [http, grpc] } = await startNereidSources(root, [`--model-repository=${root}/model_repository`, '--allow-client-shm=true']);
  return { child, http, grpc };
}

/** kB of VmRSS and VmHWM, or nulls once the process is gone. */
function memory(pid: number): { rss: number | null; peak: number | null } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)![1]);
    return { rss: kb('VmRSS'), peak: kb('VmHWM') };
  } catch {
    return { rss: null, peak: null };
  }
}

function emptyBytesMessage(count: number): Buffer {
  const msg = encodeGrpcInferRequest('simple_identity', [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, count], data: [] }], {});
  msg.raw_input_contents = [Buffer.alloc(4 * count)];
  return encodeModelInferRequest(msg);
}

async function probe(s: Server): Promise<boolean> {
  try {
    const row = Array.from({ length: 16 }, (_, i) => i);
    const res = await fetch(`http://127.0.0.1:${s.http}/v2/models/simple/infer`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, signal: AbortSignal.timeout(30_000),
      body: JSON.stringify({ inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: row }, { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: row }] }),
    });
    return res.status === 200;
  } catch {
    return false;
  }
}

/** The gzip bomb, compressed before the clock starts (the client's work is not the server's). */
let bomb: Buffer | null = null;

const vectors: Record<string, (s: Server) => Promise<string>> = {
  'gRPC gzip, N empty BYTES': async (s) => {
    bomb ??= zlib.gzipSync(emptyBytesMessage(elements), { level: 1 });
    const session = http2.connect(`http://127.0.0.1:${s.grpc}`);
    try {
      const a = await rawGrpcCall(session, '/inference.GRPCInferenceService/ModelInfer', bomb, 'gzip');
      return `grpc ${a.status} (${(bomb.length / 1024).toFixed(0)} KB sent): ${a.message.slice(0, 90)}`;
    } finally {
      session.close();
    }
  },
  'HTTP binary, N empty BYTES': async (s) => {
    const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, elements], parameters: { binary_data_size: 4 * elements } }] }));
    const res = await fetch(`http://127.0.0.1:${s.http}/v2/models/simple_identity/infer`, {
      method: 'POST', headers: { 'Inference-Header-Content-Length': String(header.length), 'Content-Type': 'application/octet-stream' },
      body: Buffer.concat([header, Buffer.alloc(4 * elements)]),
    });
    const text = await res.text();
    return `http ${res.status}: ${res.status === 200 ? `${text.length} bytes` : text.slice(0, 90)}`;
  },
  'shm, N empty BYTES': async (s) => {
    const name = `nereid-crash-${process.pid}`;
    const file = path.join('/dev/shm', name);
    // A sparse object of zeros: 4N bytes of length prefixes, every element empty.
    const fd = openSync(file, 'wx+', 0o600);
    ftruncateSync(fd, 4 * elements);
    closeSync(fd);
    try {
      const base = `http://127.0.0.1:${s.http}/v2/systemsharedmemory`;
      await fetch(`${base}/region/crash/register`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ key: `/${name}`, offset: 0, byte_size: 4 * elements }) });
      const res = await fetch(`http://127.0.0.1:${s.http}/v2/models/simple_identity/infer`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, elements], parameters: { shared_memory_region: 'crash', shared_memory_byte_size: 4 * elements } }], outputs: [{ name: 'OUTPUT0', parameters: { binary_data: true } }] }),
      });
      const text = await res.text();
      return `http ${res.status}: ${res.status === 200 ? `${text.length} bytes` : text.slice(0, 90)}`;
    } finally {
      rmSync(file, { force: true });
    }
  },
  'HTTP chunked, M one-byte chunks': (s) => new Promise((resolve) => {
    const socket = net.connect(s.http, '127.0.0.1');
    let answer = '';
    socket.on('data', (d) => {
      answer += d.toString('latin1');
      if (answer.includes('\r\n\r\n')) {
        socket.destroy();
        resolve(answer.slice(0, answer.indexOf('\r\n')));
      }
    });
    socket.on('error', () => resolve(answer.split('\r\n')[0] || 'connection error'));
    socket.on('close', () => resolve(answer.split('\r\n')[0] || 'closed without an answer'));
    socket.write('POST /v2/models/simple_identity/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
    // Written in slices, so the client does not hold the whole flood at once.
    let sent = 0;
    const slice = '1\r\n \r\n'.repeat(65536);
    const more = () => {
      while (sent < chunks) {
        if (socket.destroyed) return;
        sent += 65536;
        if (!socket.write(slice)) return void socket.once('drain', more);
      }
      socket.write('0\r\n\r\n');
    };
    more();
  }),
};

const rows: Record<string, unknown>[] = [];
console.log(`root ${root}, N = ${elements} elements, M = ${chunks} chunks, ${os.cpus().length} CPUs, Node ${process.version}`);
console.log('| vector | answer | seconds | RSS before (MB) | peak RSS (MB) | next request |');
console.log('| --- | --- | ---: | ---: | ---: | --- |');
for (const [name, run] of Object.entries(vectors)) {
  if (values.only && !name.includes(values.only)) continue;
  if (name.startsWith('gRPC gzip')) bomb ??= zlib.gzipSync(emptyBytesMessage(elements), { level: 1 });
  const s = await start();
  await probe(s);
  const before = memory(s.child.pid!);
  const t0 = performance.now();
  let answer: string;
  try {
    answer = await Promise.race([run(s), new Promise<string>((r) => setTimeout(() => r('no answer in 180 s'), 180_000))]);
  } catch (err) {
    answer = `failed: ${(err as Error).message}`;
  }
  const seconds = (performance.now() - t0) / 1000;
  const after = memory(s.child.pid!);
  const next = after.rss === null ? 'server died' : (await probe(s)) ? 'answered' : 'not answered';
  const mb = (kb: number | null) => (kb === null ? 'n/a' : (kb / 1024).toFixed(0));
  console.log(`| ${name} | ${answer.replace(/\|/g, '/')} | ${seconds.toFixed(2)} | ${mb(before.rss)} | ${mb(after.peak)} | ${next} |`);
  rows.push({ name, answer, seconds, rssBeforeKb: before.rss, peakKb: after.peak, next });
  s.child.kill('SIGKILL');
}
console.log(JSON.stringify({ command: process.argv.slice(2).join(' '), root, elements, chunks, node: process.version, rows }));
process.exit(0);
