/**
 * `node --import tsx bench/model-swap.ts [--clients 16] [--steady-secs 5] [--swaps 3] [--json FILE]`
 *
 * Swaps that lose nothing (issue 15's target): `clients` closed-loop clients send JSON inference
 * to `simple` without a version over keep-alive HTTP, while
 *   - poll:     a server in poll mode (--repository-poll-secs=1) sees a new version appear on disk
 *               (version 2 → 3, then 3 → 4, ...; one rename each, so a scan never sees half a copy);
 *   - explicit: a server in explicit mode gets `POST /v2/repository/models/simple/load` with a
 *               config override (max_batch_size alternating 8 and 4), which reloads the model.
 * For each mode: the steady p99 (requests sent before any swap), the p99 of the requests sent
 * during a swap (from the change, or in poll mode from the moment the index shows the new
 * version, until the replaced version is UNAVAILABLE "unloaded" in the index),
 * non-2xx answers and socket errors over the whole run, and for poll mode the time from the
 * new version on disk to the first answer from it. Target: 0 non-2xx, 0 socket errors, swap p99
 * at most 3x steady p99. Prints a table and one JSON line (command, machine, versions, figures).
 */
import { appendFileSync, cpSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { percentile } from './load.ts';
import { ensureBuilt, ROOT, startNereid, type Child } from './processes.ts';
import { environment } from './report.ts';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '16' },
    'steady-secs': { type: 'string', default: '5' },
    swaps: { type: 'string', default: '3' },
    json: { type: 'string' },
  },
});
const clients = Number(values.clients);
const steadyMs = Number(values['steady-secs']) * 1000;
const swaps = Number(values.swaps);

const body = Buffer.from(JSON.stringify({
  inputs: [
    { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, (_, i) => i) },
    { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, () => 1) },
  ],
}));

interface Sample {
  readonly startMs: number;
  readonly ms: number;
  readonly status: number; // 0: socket error
  readonly version: string;
}

function infer(agent: http.Agent, port: number): Promise<Sample> {
  const startMs = performance.now();
  return new Promise((resolve) => {
    const req = http.request({ agent, host: '127.0.0.1', port, path: '/v2/models/simple/infer', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        const version = res.statusCode === 200 ? (JSON.parse(text) as { model_version: string }).model_version : '';
        resolve({ startMs, ms: performance.now() - startMs, status: res.statusCode ?? 0, version });
      });
      res.on('error', () => resolve({ startMs, ms: performance.now() - startMs, status: 0, version: '' }));
    });
    req.on('error', () => resolve({ startMs, ms: performance.now() - startMs, status: 0, version: '' }));
    req.end(body);
  });
}

async function postJson(port: number, route: string, value: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`http://127.0.0.1:${port}${route}`, { method: 'POST', body: JSON.stringify(value), headers: { 'content-type': 'application/json' } });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

/** Waits until `check` holds, asking every 10 ms. */
async function until(check: () => Promise<boolean> | boolean): Promise<void> {
  for (;;) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Runs the clients until `stop()`; the samples are kept in order of completion. */
function clientsRunning(port: number): { samples: Sample[]; stop(): Promise<void> } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const samples: Sample[] = [];
  let running = true;
  const loops = Array.from({ length: clients }, async () => {
    while (running) samples.push(await infer(agent, port));
  });
  return { samples, stop: async () => { running = false; await Promise.all(loops); agent.destroy(); } };
}

interface ModeResult {
  readonly mode: string;
  readonly requests: number;
  readonly non2xx: number;
  readonly socketErrors: number;
  readonly steadyP99Ms: number;
  readonly swapP99Ms: number;
  readonly swapRequests: number;
  readonly ratio: number;
  /** Poll mode: from the rename on disk to the first answer of the new version, per swap. */
  readonly diskToServingMs: number[];
  readonly swapMs: number[];
}

async function runMode(mode: 'poll' | 'explicit'): Promise<ModeResult> {
  const repo = mkdtempSync(path.join(os.tmpdir(), 'nereid-swap-bench-'));
  const model = path.join(repo, 'simple');
  cpSync(path.join(ROOT, 'model_repository', 'simple'), model, { recursive: true });
  cpSync(path.join(model, '1'), path.join(model, '2'), { recursive: true }); // serves version 2 (latest 1)
  const flags = mode === 'poll' ? ['--model-control-mode=poll', '--repository-poll-secs=1'] : ['--model-control-mode=explicit', '--load-model=simple'];
  const child: Child = await startNereid(repo, [...flags, '--allow-metrics=false', '--allow-grpc=false']);
  const load = clientsRunning(child.port);
  const windows: [number, number][] = [];
  const diskToServingMs: number[] = [];
  try {
    await new Promise((r) => setTimeout(r, steadyMs));
    for (let i = 0; i < swaps; i++) {
      const next = 3 + i;
      const old = String(mode === 'poll' ? next - 1 : 2);
      let start = performance.now();
      if (mode === 'poll') {
        const staging = path.join(repo, `.staging-${next}`);
        cpSync(path.join(model, '1'), staging, { recursive: true });
        const renamed = performance.now();
        renameSync(staging, path.join(model, String(next)));
        // The swap starts when the poll has seen the new version (LOADING in the index).
        await until(async () => ((await postJson(child.port, '/v2/repository/index', {})).json as { name: string; version?: string }[]).some((r) => r.name === 'simple' && r.version === String(next)));
        start = performance.now();
        await until(() => load.samples.some((s) => s.startMs >= renamed && s.version === String(next)));
        diskToServingMs.push(load.samples.find((s) => s.startMs >= renamed && s.version === String(next))!.startMs - renamed);
      } else {
        const res = await postJson(child.port, '/v2/repository/models/simple/load', { parameters: { config: JSON.stringify({ max_batch_size: i % 2 === 0 ? 4 : 8, dynamic_batching: {} }) } });
        if (res.status !== 200) throw new Error(`load answered ${res.status}: ${JSON.stringify(res.json)}`);
      }
      // The swap ends when the replaced version has drained and stopped.
      await until(async () => {
        const index = (await postJson(child.port, '/v2/repository/index', {})).json as { name: string; version?: string; state?: string; reason?: string }[];
        const row = index.find((r) => r.name === 'simple' && r.version === old);
        return mode === 'poll' ? row?.reason === 'unloaded' : !index.some((r) => r.name === 'simple' && r.state === 'UNLOADING');
      });
      windows.push([start, performance.now()]);
      // Some steady traffic between swaps.
      await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    await load.stop();
    await child.stop();
    rmSync(repo, { recursive: true, force: true });
  }
  const firstSwap = windows[0][0];
  const inSwap = (s: Sample) => windows.some(([a, b]) => s.startMs >= a && s.startMs <= b);
  // The first second is warm-up (connections, first batches) and is left out of the steady figure.
  const steady = load.samples.filter((s) => s.startMs < firstSwap && s.startMs > load.samples[0].startMs + 1000).map((s) => s.ms).sort((a, b) => a - b);
  const during = load.samples.filter(inSwap).map((s) => s.ms).sort((a, b) => a - b);
  const steadyP99Ms = percentile(steady, 0.99);
  const swapP99Ms = percentile(during, 0.99);
  return {
    mode,
    requests: load.samples.length,
    non2xx: load.samples.filter((s) => s.status !== 0 && (s.status < 200 || s.status > 299)).length,
    socketErrors: load.samples.filter((s) => s.status === 0).length,
    steadyP99Ms,
    swapP99Ms,
    swapRequests: during.length,
    ratio: swapP99Ms / steadyP99Ms,
    diskToServingMs: diskToServingMs.map(Math.round),
    swapMs: windows.map(([a, b]) => Math.round(b - a)),
  };
}

ensureBuilt(); // the server runs from dist/, as `npm start` runs it
const results = [await runMode('poll'), await runMode('explicit')];
console.log(`\n${clients} clients, HTTP JSON to simple (no version), ${swaps} swaps per mode`);
console.log('mode        requests  non-2xx  sock-err  steady p99 ms  swap p99 ms  (n)    ratio  swap ms  disk->serving ms');
for (const r of results) {
  console.log(`${r.mode.padEnd(10)} ${String(r.requests).padStart(9)} ${String(r.non2xx).padStart(8)} ${String(r.socketErrors).padStart(9)} ${r.steadyP99Ms.toFixed(2).padStart(14)} ${r.swapP99Ms.toFixed(2).padStart(12)} ${String(r.swapRequests).padStart(5)} ${r.ratio.toFixed(2).padStart(7)}x  ${r.swapMs.join('/')}  ${r.diskToServingMs.join('/')}`);
}
const line = JSON.stringify({
  bench: 'model-swap',
  ...environment(),
  command: `node --import tsx bench/model-swap.ts ${process.argv.slice(2).join(' ')}`.trim(),
  clients,
  results,
});
console.log(line);
if (values.json) appendFileSync(values.json, `${line}\n`);
