/**
 * Half-sent gRPC messages, then cancelled (issue 13: eight half-sent 512 MiB messages held
 * 4.3 GB after cancel). Starts a server from this checkout, opens `--calls` calls on one HTTP/2
 * connection, sends each a length prefix of `--mib` MiB and half of that, cancels them all
 * (RST_STREAM CANCEL), and samples the server's RSS: before, once the halves are in, and 2 and
 * 10 seconds after the cancel. `--path direct` sends them to ModelInfer without a deadline
 * (Nereid's direct route), `--path grpc-js` to ModelStreamInfer (grpc-js's decoder).
 *
 *   node --import tsx bench/partial-messages.ts --path direct --calls 8 --mib 60
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { path: { type: 'string', default: 'direct' }, calls: { type: 'string', default: '8' }, mib: { type: 'string', default: '60' } } });
const calls = Number(values.calls);
const bytes = Number(values.mib) * 1024 * 1024;
const rpc = values.path === 'direct' ? 'ModelInfer' : 'ModelStreamInfer';

const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', `--model-repository=${root}/model_repository`, '--http-address=127.0.0.1', '--grpc-address=127.0.0.1',
  '--http-port=0', '--grpc-port=0', '--metrics-port=0'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise<number>((resolve) => {
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    const m = /Started GRPCInferenceService at [^\n]*:(\d+)/.exec(out);
    if (m) resolve(Number(m[1]));
  });
});
const rss = () => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const session = http2.connect(`http://127.0.0.1:${port}`, { settings: { initialWindowSize: 2 ** 31 - 1 } });
const before = rss();
const half = Buffer.alloc(Math.floor(bytes / 2), 7);
const streams = Array.from({ length: calls }, () => {
  const req = session.request({ ':method': 'POST', ':path': `/inference.GRPCInferenceService/${rpc}`, 'content-type': 'application/grpc', te: 'trailers' });
  req.on('error', () => {});
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(bytes, 1);
  req.write(prefix);
  req.write(half);
  return req;
});
// A call the server refuses at its prefix (over --grpc-max-message-size) closes instead of draining.
await Promise.all(streams.map((s) => new Promise<void>((r) => {
  if (!s.writableNeedDrain) return r();
  s.once('drain', () => r());
  s.once('close', () => r());
})));
await sleep(2000);
const loaded = rss();
for (const s of streams) s.close(http2.constants.NGHTTP2_CANCEL);
await sleep(2000);
const after2 = rss();
await sleep(8000);
const after10 = rss();
console.log(JSON.stringify({ command: `node --import tsx bench/partial-messages.ts ${process.argv.slice(2).join(' ')}`, rpc, calls, mib: bytes / 2 ** 20, rssMb: { before, halvesIn: loaded, cancelPlus2s: after2, cancelPlus10s: after10 } }));
session.close();
child.kill('SIGKILL');
process.exit(0);
