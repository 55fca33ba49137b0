/**
 * The tuner end to end, as a user runs it (`npm run tune -- ...`, a child process): a quick run
 * on the example `simple` model with a tiny budget (three configurations, short windows), real
 * servers started and stopped per configuration, and the outputs checked against each other;
 * then the same command again, which resumes from the state file and measures nothing anew.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parseConcurrencyRange, parseTuneArgs } from '../../src/tune/index.ts';
import { ROOT } from '../helpers/server.ts';

const run = promisify(execFile);
const BUDGET_MS = 5000;

let out = '';
let first = '';
const args = () => ['--import', 'tsx', 'src/tune/main.ts', '--model-repository', path.join(ROOT, 'model_repository'), '-m', 'simple', '--out', out, '--quick',
  '--max-candidates', '3', '--concurrency-range', '2', '--measurement-interval', '150', '--max-trials', '3', '--latency-budget-ms', String(BUDGET_MS)];

before(async () => {
  out = mkdtempSync(path.join(os.tmpdir(), 'nereid-tune-run-'));
  first = (await run(process.execPath, args(), { cwd: ROOT, maxBuffer: 8 * 1024 * 1024 })).stdout;
});

after(() => {
  if (out) rmSync(out, { recursive: true, force: true });
});

describe('nereid tune --quick on a tiny model', { timeout: 120_000 }, () => {
  it('measures the default and the climb\'s candidates, with progress lines', () => {
    assert.match(first, /\[1\/≤3\] default: starting a server/);
    assert.match(first, /\[3\/≤3\] cpux\d\/mbs\d+\//);
    assert.match(first, /best so far /);
  });

  it('writes the four outputs, and they agree', () => {
    for (const name of ['config.pbtxt', 'report.md', 'pareto.svg', 'results.json', 'state.json']) assert.ok(existsSync(path.join(out, name)), name);
    const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as { recommended: string; gainOverDefault: number; front: string[]; results: { key: string; config: string; chosen: number | null; points: { p99Ms: number; throughput: number }[] }[] };
    assert.equal(results.results.length, 3);
    assert.equal(results.results[0].key, 'default');
    const rec = results.results.find((r) => r.key === results.recommended);
    assert.ok(rec, `the recommendation ${results.recommended} is one of the measured configurations`);
    assert.notEqual(rec.chosen, null);
    const point = rec.points[rec.chosen!];
    assert.ok(point.p99Ms <= BUDGET_MS, `p99 ${point.p99Ms} within the budget`);
    // The highest throughput among those within the budget.
    for (const r of results.results) {
      if (r.chosen !== null && r.points[r.chosen].p99Ms <= BUDGET_MS) assert.ok(r.points[r.chosen].throughput <= point.throughput);
    }
    assert.ok(results.front.includes(rec.key));
    const def = results.results[0].points[results.results[0].chosen!];
    assert.ok(Math.abs(results.gainOverDefault - point.throughput / def.throughput) < 1e-9);
    assert.equal(readFileSync(path.join(out, 'config.pbtxt'), 'utf8'), rec.config);
    const report = readFileSync(path.join(out, 'report.md'), 'utf8');
    for (const r of results.results) assert.ok(report.includes(`\`${r.key}\``), r.key);
    assert.ok(report.includes(`Recommended: \`${rec.key}\``));
    const svg = readFileSync(path.join(out, 'pareto.svg'), 'utf8');
    assert.equal((svg.match(/data-candidate=/g) ?? []).length, results.results.filter((r) => r.chosen !== null).length);
    assert.match(svg, new RegExp(`data-recommended="${rec.key.replace(/[/]/g, '\\/')}"`));
    assert.match(svg, /data-series="pareto-front"/);
  });

  it('resumes from the state file: the same command again measures nothing anew', async () => {
    const before = readFileSync(path.join(out, 'results.json'), 'utf8');
    const { stdout } = await run(process.execPath, args(), { cwd: ROOT, maxBuffer: 8 * 1024 * 1024 });
    assert.match(stdout, /resuming from .*state\.json: 3 configuration\(s\) already measured/);
    assert.doesNotMatch(stdout, /starting a server/);
    const again = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as { recommended: string; results: unknown[] };
    assert.equal(again.recommended, (JSON.parse(before) as { recommended: string }).recommended);
    assert.deepEqual(again.results, (JSON.parse(before) as { results: unknown[] }).results);
  });
});

describe('the tune flags', () => {
  it('reads perf_analyzer\'s concurrency range and refuses bad flags', () => {
    assert.deepEqual(parseConcurrencyRange('8'), [8]);
    assert.deepEqual(parseConcurrencyRange('8:32:8'), [8, 16, 24, 32]);
    assert.throws(() => parseConcurrencyRange('0:4'), /positive integers/);
    assert.throws(() => parseConcurrencyRange('8:4'), /below start/);
    assert.throws(() => parseTuneArgs(['-m', 'x', '--out', 'o']), /--model-repository is required/);
    assert.throws(() => parseTuneArgs(['--model-repository', 'r', '-m', 'x', '--out', 'o', '--gpus', 'a']), /--gpus/);
    const o = parseTuneArgs(['--model-repository', 'r', '-m', 'x', '--out', 'o', '--quick', '--gpus', '0,1', '--latency-budget-ms', '20'])!;
    assert.deepEqual(o.gpus, [0, 1]);
    assert.equal(o.latencyBudgetMs, 20);
    assert.equal(o.maxCandidates, 24);
    assert.deepEqual(o.concurrencies, [32]);
    assert.equal(parseTuneArgs(['--help']), null);
  });
});
