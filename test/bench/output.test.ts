import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatRatios, ratios, toCsv, toJson } from '../../bench/output.ts';
import type { ResultRow } from '../../bench/rows.ts';

const row = (over: Partial<ResultRow>): ResultRow => ({
  system: 'nereid', protocol: 'http-binary', model: 'mlp', mode: 'concurrency', concurrency: 8,
  throughput: 100, p50Ms: 1, p90Ms: 2, p95Ms: 3, p99Ms: 4, requests: 10, errors: 0, stable: true, ...over,
});

describe('benchmark output', () => {
  const rows = [
    row({ server: { queueUs: 1, computeInputUs: 2, computeInferUs: 3, computeOutputUs: 4, meanBatch: 3.6 } }),
    row({ protocol: 'grpc', throughput: 50 }),
    row({ system: 'naive', throughput: 20 }),
    row({ system: 'ceiling', protocol: 'in-process', mode: 'batch', batch: 4, throughput: 125, p50Ms: NaN, p90Ms: NaN, p95Ms: NaN, p99Ms: NaN }),
    row({ concurrency: 1, throughput: 7 }),
  ];

  test('gives Nereid over the naive server and the ceiling at the same concurrency, per protocol', () => {
    assert.deepEqual(ratios(rows), [
      { protocol: 'http-binary', concurrency: 8, toNaive: 5, toCeiling: 0.8, ceilingBatch: 4 },
      { protocol: 'grpc', concurrency: 8, toNaive: 2.5, toCeiling: 0.4, ceilingBatch: 4 },
    ]);
    assert.match(formatRatios(ratios(rows)), /c=8 +http-binary +nereid\/naive +5\.00x +nereid\/ceiling +0\.80 \(ceiling at batch 4\)/);
  });

  test('writes CSV cells from the row and its server split, empty where a figure does not apply', () => {
    const [header, first, , , ceiling] = toCsv(rows).trim().split('\n');
    const columns = header.split(',');
    const cell = (line: string, name: string) => line.split(',')[columns.indexOf(name)];
    assert.equal(cell(first, 'throughput'), '100');
    assert.equal(cell(first, 'meanBatch'), '3.6');
    assert.equal(cell(first, 'requestRate'), '');
    assert.equal(cell(ceiling, 'p50Ms'), '');
    assert.equal(cell(ceiling, 'batch'), '4');
  });

  test('writes NaN as null in JSON, so the file parses', () => {
    const parsed = JSON.parse(toJson({ command: 'x' }, rows, ratios(rows))) as { rows: ResultRow[]; command: string };
    assert.equal(parsed.command, 'x');
    assert.equal(parsed.rows[3].p50Ms, null);
    assert.equal(parsed.rows.length, rows.length);
  });
});
