/**
 * `node --import tsx bench/metrics-on-off.ts [--concurrency 16] [--duration-secs 5] [--rounds 3] [--json FILE]`
 *
 * Does metrics collection slow inference? Throughput of `simple` (HTTP JSON, batch 1) from three
 * Nereid servers in child processes, measured in one run with the rounds interleaved (and each
 * round starting with the next system) so drift in the machine's load hits all three alike:
 *   - metrics off:        --allow-metrics=false
 *   - metrics on:         the defaults (counters, CPU gauges every 2 s), scraped every second
 *   - metrics+summaries:  also --metrics-config summary_latencies=true and histogram_latencies=true
 *                         (the only metrics that cost something per request), scraped every second
 * Prints a table and one JSON line (command, machine, versions, figures, ratios to "off").
 */
import { appendFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { encodeInferRequest } from '../src/client/index.ts';
import { runLoad, type LoadResult } from './load.ts';
import { ensureBuilt, startNereid, type Child } from './processes.ts';
import { environment, printTable, summarize } from './report.ts';

ensureBuilt(); // the server runs from dist/, as `npm start` runs it

const { values } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '16' },
    'duration-secs': { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    json: { type: 'string' },
  },
});
const concurrency = Number(values.concurrency);
const durationMs = Number(values['duration-secs']) * 1000;
const rounds = Number(values.rounds);

/** A port free right now, for a child's --metrics-port (startNereid reports only the HTTP port). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** GETs /metrics every `everyMs` until stopped, as a Prometheus server would (more often). */
function scrapeEvery(port: number, everyMs: number): { stop(): number } {
  let scrapes = 0;
  const timer = setInterval(() => {
    http.get({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
      res.resume();
      res.on('end', () => { if (res.statusCode === 200) scrapes++; });
    }).on('error', () => {});
  }, everyMs);
  return { stop: () => { clearInterval(timer); return scrapes; } };
}

const tensors = [
  { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, (_, i) => i) },
  { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, () => 1) },
];
const request = encodeInferRequest(tensors, {});

interface System {
  readonly name: string;
  readonly child: Child;
  readonly metricsPort: number | null;
}

const onPort = await freePort();
const summaryPort = await freePort();
const systems: System[] = [
  { name: 'metrics off', child: await startNereid('model_repository', ['--allow-metrics=false']), metricsPort: null },
  { name: 'metrics on', child: await startNereid('model_repository', ['--metrics-port', String(onPort)]), metricsPort: onPort },
  {
    name: 'metrics+summaries',
    child: await startNereid('model_repository', ['--metrics-port', String(summaryPort), '--metrics-config', 'summary_latencies=true', '--metrics-config', 'histogram_latencies=true']),
    metricsPort: summaryPort,
  },
];
const results = new Map<string, LoadResult[]>();
let scrapes = 0;
try {
  for (let round = 0; round < rounds; round++) {
    // Each round starts with another system, so no system always runs first (or last).
    for (const s of [...systems.slice(round % systems.length), ...systems.slice(0, round % systems.length)]) {
      const scraper = s.metricsPort !== null ? scrapeEvery(s.metricsPort, 1000) : null;
      const r = await runLoad({ url: `http://127.0.0.1:${s.child.port}/v2/models/simple/infer`, body: request.body, headers: request.headers, concurrency, durationMs });
      scrapes += scraper?.stop() ?? 0;
      results.set(s.name, [...(results.get(s.name) ?? []), r]);
      process.stderr.write(`round ${round + 1}/${rounds} ${s.name}: ${r.throughput.toFixed(0)} req/s, p50 ${r.p50Ms.toFixed(3)} ms\n`);
    }
  }
} finally {
  await Promise.all(systems.map((s) => s.child.stop()));
}

const rows = [...results].map(([name, list]) => summarize(name, list));
printTable(`simple over HTTP JSON, ${concurrency} clients, ${rounds} x ${durationMs / 1000} s per system, rounds interleaved (means)`, rows, 'metrics off');
// On a small shared machine single rounds swing widely; the median of the rounds resists that.
const median = (xs: readonly number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const medians = Object.fromEntries([...results].map(([name, list]) => [name, median(list.map((r) => r.throughput))]));
console.log(`\nmedian req/s over rounds: ${Object.entries(medians).map(([n, v]) => `${n} ${v.toFixed(0)}`).join(', ')}`);
const off = rows.find((r) => r.system === 'metrics off')!;
const env = environment();
const line = JSON.stringify({
  bench: 'metrics-on-off',
  ...env,
  command: `node --import tsx bench/metrics-on-off.ts ${process.argv.slice(2).join(' ')}`.trim(),
  concurrency,
  scrapes,
  rows,
  perRound: Object.fromEntries([...results].map(([name, list]) => [name, list.map((r) => Math.round(r.throughput))])),
  medians,
  medianRatioOnToOff: medians['metrics on'] / medians['metrics off'],
  medianRatioSummariesToOff: medians['metrics+summaries'] / medians['metrics off'],
  ratioOnToOff: rows.find((r) => r.system === 'metrics on')!.throughput / off.throughput,
  ratioSummariesToOff: rows.find((r) => r.system === 'metrics+summaries')!.throughput / off.throughput,
});
console.log(line);
if (values.json) appendFileSync(values.json, `${line}\n`);
