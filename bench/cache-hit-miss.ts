/**
 * `node --import tsx bench/cache-hit-miss.ts [--duration-secs 3] [--rounds 5] [--json FILE]`
 *
 * What a response cache hit saves: `simple` (with response_cache enabled, --cache-config
 * local,size=256 MiB) at one client over keep-alive HTTP JSON, in two modes measured in one run
 * with the rounds interleaved (each round starting with the other mode):
 *   - miss: every request has new INPUT0 values (a counter), so each one is looked up, run by the
 *           model and inserted;
 *   - hit:  every request is the same, so after the first each is answered from the cache.
 * Both modes build their request body the same way for every request, so the client's own work is
 * alike. The target (issue 17) is a hit at least 2x faster than a miss. Prints a table and one
 * JSON line (command, machine, versions, figures, the hit/miss ratios).
 */
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { encodeInferRequest } from '../src/client/index.ts';
import { closedLoop, type LoadResult } from './load.ts';
import { ensureBuilt, ROOT, startNereid } from './processes.ts';
import { environment, printTable, summarize } from './report.ts';

const { values } = parseArgs({
  options: {
    'duration-secs': { type: 'string', default: '3' },
    rounds: { type: 'string', default: '5' },
    json: { type: 'string' },
  },
});
const durationMs = Number(values['duration-secs']) * 1000;
const rounds = Number(values.rounds);

ensureBuilt(); // the server runs from dist/, as `npm start` runs it

// A repository holding `simple` with the cache enabled.
const repo = mkdtempSync(path.join(os.tmpdir(), 'nereid-cache-bench-'));
cpSync(path.join(ROOT, 'model_repository', 'simple'), path.join(repo, 'simple'), { recursive: true });
const config = path.join(repo, 'simple', 'config.pbtxt');
writeFileSync(config, `${readFileSync(config, 'utf8')}response_cache { enable: true }\n`);

/** A JSON request for `simple` whose INPUT0 starts at `start`. */
function body(start: number): { body: Buffer; headers: Record<string, string> } {
  return encodeInferRequest([
    { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, (_, i) => (start + i) | 0) },
    { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, () => 1) },
  ], {});
}

function post(agent: http.Agent, port: number, request: { body: Buffer; headers: Record<string, string> }): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const req = http.request({ agent, host: '127.0.0.1', port, path: '/v2/models/simple/infer', method: 'POST', headers: { ...request.headers, 'content-length': request.body.length } }, (res) => {
      res.on('data', () => {});
      res.on('end', () => resolve(res.statusCode === 200));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(request.body);
  });
}

const child = await startNereid(repo, ['--cache-config', `local,size=${256 * 1024 * 1024}`, '--allow-metrics=false']);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
let counter = 1_000_000;
const modes: Record<string, () => Promise<boolean>> = {
  miss: () => post(agent, child.port, body(counter++)),
  hit: () => post(agent, child.port, body(7)),
};
const results = new Map<string, LoadResult[]>();
try {
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? ['miss', 'hit'] : ['hit', 'miss'];
    for (const mode of order) {
      const r = await closedLoop([modes[mode]], durationMs, 500);
      results.set(mode, [...(results.get(mode) ?? []), r]);
      process.stderr.write(`round ${round + 1}/${rounds} ${mode}: ${r.throughput.toFixed(0)} req/s, p50 ${r.p50Ms.toFixed(3)} ms\n`);
    }
  }
} finally {
  agent.destroy();
  await child.stop();
  rmSync(repo, { recursive: true, force: true });
}

const rows = [...results].map(([name, list]) => summarize(name, list));
printTable(`simple over HTTP JSON, 1 client, ${rounds} x ${durationMs / 1000} s per mode, rounds interleaved (means)`, rows, 'miss');
const hit = rows.find((r) => r.system === 'hit')!;
const miss = rows.find((r) => r.system === 'miss')!;
const line = JSON.stringify({
  bench: 'cache-hit-miss',
  ...environment(),
  command: `node --import tsx bench/cache-hit-miss.ts ${process.argv.slice(2).join(' ')}`.trim(),
  rows,
  perRound: Object.fromEntries([...results].map(([name, list]) => [name, list.map((r) => Math.round(r.throughput))])),
  throughputHitToMiss: hit.throughput / miss.throughput,
  p50MissToHit: miss.p50Ms / hit.p50Ms,
});
console.log(line);
if (values.json) appendFileSync(values.json, `${line}\n`);
