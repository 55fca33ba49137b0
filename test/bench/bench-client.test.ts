import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { benchNereid } from '../../bench/cli.ts';
import { parseBenchOptions } from '../../bench/options.ts';
import { formatTable, toCsv } from '../../bench/output.ts';
import type { ResultRow } from '../../bench/rows.ts';
import { SHM_DIRECTORY } from '../../src/client/index.ts';
import { startGrpcTestServer, type GrpcTestServer } from '../helpers/grpc.ts';
import { repositoryOf, ROOT } from '../helpers/server.ts';

// One server for both suites: neither changes it (the bench removes its own shm regions).
let s: GrpcTestServer;
before(async () => {
  s = await startGrpcTestServer([`--model-repository=${repositoryOf('simple')}`, '--allow-client-shm=true']);
});
after(() => s.close());

describe('the benchmark client against a real server', () => {
  let rows: ResultRow[];
  const lines: string[] = [];

  before(async () => {
    const options = parseBenchOptions([
      '--url', s.url, '--grpc-url', s.grpcAddress, '-m', 'simple',
      '-i', 'http,http-json,grpc,shm', '--concurrency-range', '2',
      // Short windows: the test checks what is measured and reported, not how steady it is.
      '--measurement-interval', '150', '--max-trials', '3', '--warmup', '50', '--input-data', 'random',
    ]);
    rows = await benchNereid(options, { httpUrl: s.url, grpcAddress: s.grpcAddress }, (line) => lines.push(line));
  });

  test('measures every protocol with answered requests and no failures', () => {
    assert.deepEqual(rows.map((r) => r.protocol), ['http-binary', 'http-json', 'grpc', 'shm']);
    for (const r of rows) {
      assert.equal(r.system, 'nereid');
      assert.equal(r.model, 'simple');
      assert.equal(r.mode, 'concurrency');
      assert.equal(r.concurrency, 2);
      assert.ok(r.requests > 0, `${r.protocol}: no requests answered`);
      assert.equal(r.errors, 0, `${r.protocol}: failed requests`);
      assert.ok(r.p50Ms <= r.p90Ms && r.p90Ms <= r.p95Ms && r.p95Ms <= r.p99Ms, `${r.protocol}: percentiles out of order`);
    }
  });

  test("reads the server-side split from the statistics extension for each protocol's windows", () => {
    for (const r of rows) {
      assert.ok(r.server, `${r.protocol}: no server split`);
      assert.ok(r.server.meanBatch >= 1 && r.server.meanBatch <= 2, `${r.protocol}: mean batch ${r.server.meanBatch} with 2 clients`);
      assert.ok(Number.isFinite(r.server.computeInferUs));
    }
  });

  test('reports each window on the progress line, and leaves no shared-memory region behind', async () => {
    assert.ok(lines.some((l) => /^nereid shm c=2 window 1\/3: /.test(l)), lines.join('\n'));
    assert.deepEqual(await s.client.systemSharedMemoryStatus(), []);
    assert.equal(readdirSync(SHM_DIRECTORY).filter((f) => f.startsWith(`nereid-bench-${process.pid}-`)).length, 0);
  });

  test('prints and writes one line per row', () => {
    assert.equal(formatTable(rows).split('\n').length, rows.length + 1);
    const csv = toCsv(rows).trim().split('\n');
    assert.equal(csv.length, rows.length + 1);
    assert.match(csv[1], /^nereid,http-binary,simple,concurrency,2,/);
  });
});

describe('the benchmark command line', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nereid-bench-cli-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs `npm run bench -- ...args` as npm would (node --import tsx bench/run.ts), from the repository root. */
  function bench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c));
      child.stderr.on('data', (c: Buffer) => (stderr += c));
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });
  }

  test('loads a running server from its own process and writes the table, --json and --csv', async () => {
    const json = path.join(dir, 'out', 'rows.json');
    const csv = path.join(dir, 'rows.csv');
    const r = await bench(['-u', s.url, '--grpc-url', s.grpcAddress, '-m', 'simple', '-i', 'shm', '--concurrency-range', '1:3:2', '-p', '150', '-r', '3', '--warmup', '50', '--json', json, '--csv', csv]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^nereid +shm +c=1 /m);
    assert.match(r.stdout, /^nereid +shm +c=3 /m);
    assert.match(r.stderr, /nereid shm c=1 window 1\/3: /);
    const written = JSON.parse(readFileSync(json, 'utf8')) as { rows: ResultRow[]; command: string };
    assert.deepEqual(written.rows.map((row) => `${row.protocol} ${row.concurrency}`), ['shm 1', 'shm 3']);
    for (const row of written.rows) {
      assert.ok(row.requests > 0, `${row.protocol}: no requests answered`);
      assert.equal(row.errors, 0);
    }
    assert.equal(readFileSync(csv, 'utf8').trim().split('\n').length, 3);
  });

  test('refuses a bad flag with one line naming it, and exit status 2', async () => {
    const r = await bench(['--concurrency-range', '8:2']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim(), 'bench: --concurrency-range: end 2 is below start 8');
  });
});
