import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { benchNereid } from '../../bench/cli.ts';
import { parseBenchOptions } from '../../bench/options.ts';
import { formatTable, toCsv } from '../../bench/output.ts';
import type { ResultRow } from '../../bench/rows.ts';
import { SHM_DIRECTORY } from '../../src/client/index.ts';
import { startGrpcTestServer, type GrpcTestServer } from '../helpers/grpc.ts';

describe('the benchmark client against a real server', () => {
  let s: GrpcTestServer;
  let rows: ResultRow[];
  const lines: string[] = [];

  before(async () => {
    s = await startGrpcTestServer(['--allow-client-shm=true']);
    const options = parseBenchOptions([
      '--url', s.url, '--grpc-url', s.grpcAddress, '-m', 'simple',
      '-i', 'http,http-json,grpc,shm', '--concurrency-range', '2',
      '--measurement-interval', '300', '--max-trials', '3', '--warmup', '100', '--input-data', 'random',
    ]);
    rows = await benchNereid(options, { httpUrl: s.url, grpcAddress: s.grpcAddress }, (line) => lines.push(line));
  });
  after(() => s.close());

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
