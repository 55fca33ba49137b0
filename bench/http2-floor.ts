/**
 * The floor under unary gRPC in Node.js: the same request and answer over node:http, over bare
 * node:http2 (a gRPC-shaped answer: headers, one length-prefixed message, trailers) and over a
 * grpc-js server, each with a handler that does nothing. No Nereid code runs, so the ratios say
 * what the transports themselves cost. The server runs in a child process (this file, with
 * --serve), the closed-loop load in this one; rounds alternate between the systems. Reports
 * throughput, latency, CPU per request on each side, and the server's garbage collections
 * (major ones pause everything for milliseconds).
 *
 *   node --import tsx bench/http2-floor.ts --concurrency 16 --duration-secs 4 --rounds 2
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import os from 'node:os';
import { constants as perfConstants, PerformanceObserver } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { grpcFrame, h2Call } from './grpc-load.ts';
import { closedLoop, runLoad, type LoadResult } from './load.ts';

type ServerKind = 'http' | 'http2' | 'grpc-js';

const kRequestBytes = 200;
const kAnswerBytes = 100;
const kPath = '/inference.GRPCInferenceService/ModelInfer';

/** Serves `kind` on a free loopback port; prints "PORT n", and a GC line for each "gc" read on stdin. */
function serve(kind: ServerKind): void {
  const answer = Buffer.alloc(kAnswerBytes, 7);
  const framed = grpcFrame(answer);
  const gc = { minor: 0, major: 0, pauseMs: 0, maxPauseMs: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) gc.major++;
      else if (kind === perfConstants.NODE_PERFORMANCE_GC_MINOR) gc.minor++;
      gc.pauseMs += e.duration;
      gc.maxPauseMs = Math.max(gc.maxPauseMs, e.duration);
    }
  }).observe({ entryTypes: ['gc'] });
  createInterface({ input: process.stdin }).on('line', () => {
    console.log(`GC ${JSON.stringify(gc)}`);
    Object.assign(gc, { minor: 0, major: 0, pauseMs: 0, maxPauseMs: 0 });
  });
  const ready = (port: number) => console.log(`PORT ${port}`);
  if (kind === 'http') {
    const server = http.createServer((req, res) => {
      req.on('data', () => {});
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': answer.length });
        res.end(answer);
      });
    });
    server.listen(0, '127.0.0.1', () => ready((server.address() as { port: number }).port));
  } else if (kind === 'http2') {
    const server = http2.createServer();
    server.on('stream', (stream) => {
      stream.on('data', () => {});
      stream.on('end', () => {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc+proto' }, { waitForTrailers: true });
        stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': 'OK' }));
        stream.end(framed);
      });
    });
    server.listen(0, '127.0.0.1', () => ready((server.address() as { port: number }).port));
  } else {
    const server = new grpc.Server({ 'grpc.enable_channelz': 0 });
    const same = (b: Buffer) => b;
    server.addService({ ModelInfer: { path: kPath, requestStream: false, responseStream: false, requestSerialize: same, requestDeserialize: same, responseSerialize: same, responseDeserialize: same } },
      { ModelInfer: (_call: unknown, callback: grpc.sendUnaryData<Buffer>) => callback(null, answer) });
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
      if (err) throw err;
      ready(port);
    });
  }
}

interface Child {
  readonly process: ChildProcess;
  readonly port: number;
  /** The server's GC counts since the last call. */
  gc(): Promise<{ minor: number; major: number; pauseMs: number; maxPauseMs: number }>;
}

function startServer(kind: ServerKind): Promise<Child> {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--serve', kind], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const waiting: ((line: string) => void)[] = [];
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`the ${kind} server exited with ${code}`)));
    lines.on('line', (line) => {
      const port = /^PORT (\d+)$/.exec(line);
      if (port) {
        resolve({
          process: child,
          port: Number(port[1]),
          gc: () => new Promise((done) => {
            waiting.push((l) => done(JSON.parse(l.slice(3))));
            child.stdin!.write('gc\n');
          }),
        });
      } else if (line.startsWith('GC ')) {
        waiting.shift()?.(line);
      }
    });
  });
}

/** CPU seconds a process has used, all threads (Linux /proc; NaN elsewhere). */
function cpuSecs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

function h2Load(port: number, connections: number, concurrency: number, durationMs: number): Promise<LoadResult> {
  const sessions = Array.from({ length: connections }, () => http2.connect(`http://127.0.0.1:${port}`));
  const framed = grpcFrame(Buffer.alloc(kRequestBytes, 1));
  const senders = Array.from({ length: concurrency }, (_, i) => () => h2Call(sessions[i % connections], framed));
  return closedLoop(senders, durationMs).finally(() => {
    for (const s of sessions) s.close();
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      serve: { type: 'string' },
      concurrency: { type: 'string', default: '16' },
      'duration-secs': { type: 'string', default: '4' },
      rounds: { type: 'string', default: '2' },
    },
  });
  if (values.serve) return serve(values.serve as ServerKind);
  const concurrency = Number(values.concurrency);
  const durationMs = Number(values['duration-secs']) * 1000;
  const rounds = Number(values.rounds);
  const perSix = Math.ceil(concurrency / 6);
  const systems: { name: string; server: ServerKind; load: (port: number) => Promise<LoadResult> }[] = [
    { name: 'node:http', server: 'http', load: (port) => runLoad({ url: `http://127.0.0.1:${port}/`, body: Buffer.alloc(kRequestBytes, 1), headers: { 'content-type': 'application/octet-stream' }, concurrency, durationMs }) },
    { name: 'node:http2, 1 conn', server: 'http2', load: (port) => h2Load(port, 1, concurrency, durationMs) },
    { name: `node:http2, ${perSix} conns`, server: 'http2', load: (port) => h2Load(port, perSix, concurrency, durationMs) },
    { name: 'grpc-js, 1 conn', server: 'grpc-js', load: (port) => h2Load(port, 1, concurrency, durationMs) },
    { name: `grpc-js, ${perSix} conns`, server: 'grpc-js', load: (port) => h2Load(port, perSix, concurrency, durationMs) },
  ];
  const rows = new Map<string, { throughput: number; p50Ms: number; p99Ms: number; serverUs: number; clientUs: number; majorGcs: number; gcPauseMsPerSec: number }[]>();
  for (let round = 0; round < rounds; round++) {
    for (const s of systems) {
      const server = await startServer(s.server);
      try {
        await server.gc();
        const cpu0 = cpuSecs(server.process.pid!);
        const client0 = process.cpuUsage();
        const r = await s.load(server.port);
        const client = process.cpuUsage(client0);
        const gc = await server.gc();
        // The load's warm-up second is in the CPU and the GC figures too: count its requests.
        const answered = r.requests * (1 + 1000 / durationMs);
        const row = {
          throughput: r.throughput,
          p50Ms: r.p50Ms,
          p99Ms: r.p99Ms,
          serverUs: ((cpuSecs(server.process.pid!) - cpu0) * 1e6) / answered,
          clientUs: (client.user + client.system) / answered,
          majorGcs: gc.major,
          gcPauseMsPerSec: gc.pauseMs / (durationMs / 1000 + 1),
        };
        rows.set(s.name, [...(rows.get(s.name) ?? []), row]);
        process.stderr.write(`round ${round + 1}/${rounds} ${s.name}: ${row.throughput.toFixed(0)} req/s, p99 ${row.p99Ms.toFixed(2)} ms, server ${row.serverUs.toFixed(1)} us/req, major GCs ${row.majorGcs}\n`);
      } finally {
        server.process.removeAllListeners('exit');
        server.process.kill();
      }
    }
  }
  const mean = (list: number[]) => list.reduce((a, b) => a + b, 0) / list.length;
  const summary = [...rows].map(([name, list]) => ({
    system: name,
    throughput: mean(list.map((r) => r.throughput)),
    p50Ms: mean(list.map((r) => r.p50Ms)),
    p99Ms: mean(list.map((r) => r.p99Ms)),
    serverCpuUsPerRequest: mean(list.map((r) => r.serverUs)),
    clientCpuUsPerRequest: mean(list.map((r) => r.clientUs)),
    serverMajorGcs: list.reduce((n, r) => n + r.majorGcs, 0),
    serverGcPauseMsPerSec: mean(list.map((r) => r.gcPauseMsPerSec)),
  }));
  const base = summary[0].throughput;
  console.log(`\ndo-nothing handlers, ${concurrency} concurrent clients, ${rounds} x ${durationMs / 1000} s per system\n`);
  console.log('system                req/s   p50 ms   p99 ms   server us/req   client us/req   server major GCs   server GC ms/s   vs node:http');
  for (const s of summary) {
    console.log(`${s.system.padEnd(19)} ${s.throughput.toFixed(0).padStart(8)} ${s.p50Ms.toFixed(2).padStart(8)} ${s.p99Ms.toFixed(2).padStart(8)} ${s.serverCpuUsPerRequest.toFixed(1).padStart(15)} ${s.clientCpuUsPerRequest.toFixed(1).padStart(15)} ${String(s.serverMajorGcs).padStart(18)} ${s.serverGcPauseMsPerSec.toFixed(1).padStart(16)} ${(s.throughput / base).toFixed(2).padStart(13)}x`);
  }
  console.log(JSON.stringify({
    bench: 'http2-floor',
    command: `node --import tsx bench/http2-floor.ts ${process.argv.slice(2).join(' ')}`.trim(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30) },
    node: process.version,
    concurrency,
    results: summary.map((s) => ({ ...s, ratioToHttp: s.throughput / base })),
  }));
}

await main();
