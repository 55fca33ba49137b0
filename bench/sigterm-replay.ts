/**
 * `node --import tsx bench/sigterm-replay.ts [--scenario=keepalive|queue] [--connections=N]
 * [--exit-timeout-secs=N] [--grpc=N]`: replays issue 13's shutdown reports against the real
 * `nereid` process and counts what became of every request sent.
 *
 *   keepalive  N keep-alive HTTP connections (and --grpc unary gRPC loops) send `simple`
 *              requests back to back; after 500 answers the server gets SIGTERM; each loop
 *              goes on until its connection is refused.
 *   queue      N HTTP requests to the `slow` fixture (about 0.4 s a batch of 8) are sent at
 *              once; once the server has them all queued (its pending-request gauge on the
 *              metrics port), SIGTERM, with --exit-timeout-secs (default 2) far shorter than
 *              the queue.
 *
 * A request is *lost* when it was written on an open connection and got neither a response nor
 * a gRPC status, only a socket error (reset, closed mid-request). A refused connection after the
 * listener closed is counted apart: nothing was received there. Prints one JSON line.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import { once } from 'node:events';
import { Client, errors as undiciErrors } from 'undici';
import { GrpcClient } from '../src/client/index.ts';
import { repositoryOf } from '../test/helpers/server.ts';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const scenario = args.scenario ?? 'keepalive';
const connections = Number(args.connections ?? (scenario === 'queue' ? 128 : 32));
const grpcLoops = Number(args.grpc ?? (scenario === 'keepalive' ? 8 : 0));
const exitTimeout = Number(args['exit-timeout-secs'] ?? (scenario === 'queue' ? 2 : 30));

const repo = repositoryOf('simple', 'slow');
const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', `--model-repository=${repo}`, '--http-address=127.0.0.1',
  '--http-port=0', '--grpc-address=127.0.0.1', '--grpc-port=0', '--metrics-port=0', `--exit-timeout-secs=${exitTimeout}`], { stdio: ['ignore', 'pipe', 'pipe'] });
let out = '';
let err = '';
child.stdout.on('data', (d: Buffer) => { out += d; });
child.stderr.on('data', (d: Buffer) => { err += d; });
const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
while (!/Started GRPCInferenceService/.test(out)) {
  await Promise.race([once(child.stdout, 'data'), exited.then(() => { throw new Error(`server exited: ${err}`); })]);
}
const httpPort = Number(/Started HTTPService at [^:]+:(\d+)/.exec(out)![1]);
const grpcPort = Number(/Started GRPCInferenceService at [^:]+:(\d+)/.exec(out)![1]);
const metricsPort = Number(/Started Metrics Service at [^:]+:(\d+)/.exec(out)![1]);

const counts = { sent: 0, ok: 0, unavailable: 0, otherStatus: 0, lost: 0, refused: 0, grpcSent: 0, grpcOk: 0, grpcUnavailable: 0, grpcOther: 0 };
const lostErrors: Record<string, number> = {};
const otherStatuses: Record<string, number> = {};

const simpleBody = JSON.stringify({ inputs: ['INPUT0', 'INPUT1'].map((name) => ({ name, datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, (_, i) => i) })) });
const slowBody = JSON.stringify({ inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [1, 1], data: [1] }] });

function refusedCode(e: unknown): boolean {
  const code = (e as { code?: string }).code ?? (e as { cause?: { code?: string } }).cause?.code;
  return code === 'ECONNREFUSED';
}

/** Sends one request; true when the loop may go on (the connection is still usable). */
async function one(client: Client, model: string, body: string): Promise<boolean> {
  counts.sent++;
  try {
    const res = await client.request({ path: `/v2/models/${model}/infer`, method: 'POST', body, headers: { 'content-type': 'application/json' } });
    const text = await res.body.text();
    if (res.statusCode === 200) counts.ok++;
    else if (res.statusCode === 503) counts.unavailable++;
    else {
      counts.otherStatus++;
      otherStatuses[`${res.statusCode} ${text.slice(0, 80)}`] = (otherStatuses[`${res.statusCode} ${text.slice(0, 80)}`] ?? 0) + 1;
    }
    return true;
  } catch (e) {
    if (refusedCode(e)) {
      counts.sent--;
      counts.refused++;
      return false;
    }
    counts.lost++;
    const key = `${(e as Error).constructor.name}: ${(e as Error).message}`;
    lostErrors[key] = (lostErrors[key] ?? 0) + 1;
    return !(e instanceof undiciErrors.ClientDestroyedError);
  }
}

async function pendingRequests(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  return [...text.matchAll(/^nv_inference_pending_request_count\{[^}]*model="slow"[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
}

const clients = Array.from({ length: connections }, () => new Client(`http://127.0.0.1:${httpPort}`, { pipelining: 1 }));
const loops: Promise<void>[] = [];
if (scenario === 'keepalive') {
  for (const c of clients) {
    loops.push((async () => {
      while (await one(c, 'simple', simpleBody)) { /* back to back */ }
    })());
  }
  for (let g = 0; g < grpcLoops; g++) {
    const client = new GrpcClient(`127.0.0.1:${grpcPort}`);
    loops.push((async () => {
      for (;;) {
        counts.grpcSent++;
        try {
          await client.infer('simple', ['INPUT0', 'INPUT1'].map((name) => ({ name, datatype: 'INT32', shape: [1, 16], data: new Int32Array(16) })));
          counts.grpcOk++;
        } catch (e) {
          const code = (e as { code?: number }).code;
          if (code === 14) counts.grpcUnavailable++;
          else counts.grpcOther++;
          // UNAVAILABLE from a refused connection ends the loop; so does anything else.
          break;
        }
      }
      client.close();
    })());
  }
  while (counts.ok + counts.grpcOk < 500) await new Promise((r) => setTimeout(r, 5));
} else {
  for (const c of clients) loops.push(one(c, 'slow', slowBody).then(() => {}));
  // All queued but the batch at the instance.
  while ((await pendingRequests()) < connections - 8) await new Promise((r) => setTimeout(r, 20));
}
const signalledAt = Date.now();
child.kill('SIGTERM');
const [code, signal] = await exited;
const exitMs = Date.now() - signalledAt;
await Promise.all(loops);
await Promise.all(clients.map((c) => c.destroy()));
const stderrTail = err.split('\n').filter(Boolean).slice(-3);
const machine = `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
process.stdout.write(`${JSON.stringify({ command: `node --import tsx bench/sigterm-replay.ts ${process.argv.slice(2).join(' ')}`.trim(), machine, scenario, connections, grpcLoops, exitTimeout, exitCode: code, signal, exitMs, ...counts, lostErrors, otherStatuses, stderrTail })}\n`);
