import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { combineWindows, isStable, percentile, withinPercentOfMean, type Window } from '../../bench/measure.ts';
import { serverSplit, snapshotFromReport } from '../../bench/server-stats.ts';

describe('percentile (nearest rank)', () => {
  const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  test('takes the value at rank ceil(q * n)', () => {
    assert.equal(percentile(ten, 0.5), 5);
    assert.equal(percentile(ten, 0.9), 9);
    assert.equal(percentile(ten, 0.95), 10);
    assert.equal(percentile(ten, 0.99), 10);
    assert.equal(percentile(ten, 0.11), 2);
    assert.equal(percentile(ten, 0.1), 1);
  });

  test('gives the first value at q = 0, the last at q = 1, and NaN for no values', () => {
    assert.equal(percentile(ten, 0), 1);
    assert.equal(percentile(ten, 1), 10);
    assert.ok(Number.isNaN(percentile([], 0.5)));
  });

  test('on 100 values gives the value whose rank is the percentile', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => (i + 1) * 10);
    assert.equal(percentile(hundred, 0.5), 500);
    assert.equal(percentile(hundred, 0.9), 900);
    assert.equal(percentile(hundred, 0.99), 990);
  });
});

/** A window of `requests` answers in `seconds`, every latency `ms` (or the given list). */
function win(requests: number, seconds: number, ms: number | number[], cpuUs = 0): Window {
  const latenciesMs = Array.isArray(ms) ? [...ms].sort((a, b) => a - b) : Array.from({ length: requests }, () => ms);
  return { requests, errors: 0, seconds, latenciesMs, cpuUs };
}

describe('the stability rule', () => {
  test('holds when the last three throughputs and latencies are within the percentage of their mean', () => {
    // Throughputs 95, 100, 105 (mean 100, each within 5%); latencies 10, 10.5, 9.5 ms.
    const windows = [win(10, 1, 50), win(95, 1, 10), win(100, 1, 10.5), win(105, 1, 9.5)];
    assert.equal(isStable(windows, 10), true);
    assert.equal(isStable(windows, 5), true);
    assert.equal(isStable(windows, 4.9), false);
  });

  test('looks only at the last three windows', () => {
    const settled = [win(100, 1, 10), win(100, 1, 10), win(100, 1, 10)];
    assert.equal(isStable([win(1, 1, 500), ...settled], 10), true);
    assert.equal(isStable([...settled, win(1, 1, 500)], 10), false);
  });

  test('fails on throughput alone, and on latency alone', () => {
    assert.equal(isStable([win(80, 1, 10), win(100, 1, 10), win(120, 1, 10)], 10), false);
    assert.equal(isStable([win(100, 1, 8), win(100, 1, 10), win(100, 1, 12)], 10), false);
  });

  test('never holds with fewer than three windows or an empty one', () => {
    assert.equal(isStable([win(100, 1, 10), win(100, 1, 10)], 10), false);
    assert.equal(isStable([win(100, 1, 10), win(100, 1, 10), win(0, 1, [])], 50), false);
  });

  test('compares a percentile instead of the mean when asked', () => {
    // Same means (10 ms) but p95 of 10, 10, 30: the tail moved.
    const steady = Array.from({ length: 20 }, () => 10);
    const tail = [...Array.from({ length: 18 }, () => 5), 50, 50];
    const windows = [win(20, 1, steady), win(20, 1, steady), win(20, 1, tail)];
    assert.equal(isStable(windows, 10, 'avg'), true);
    assert.equal(isStable(windows, 10, 95), false);
  });

  test('withinPercentOfMean refuses a zero mean and non-finite values', () => {
    assert.equal(withinPercentOfMean([0, 0, 0], 10), false);
    assert.equal(withinPercentOfMean([1, NaN, 1], 10), false);
    assert.equal(withinPercentOfMean([9, 10, 11], 10), true);
  });
});

describe('combining kept windows', () => {
  test('adds counts and times, and takes percentiles over all latencies together', () => {
    const a = win(5, 1, [1, 2, 3, 4, 5], 500_000);
    const b = { ...win(5, 2, [6, 7, 8, 9, 10], 500_000), errors: 2 };
    const f = combineWindows([a, b]);
    assert.equal(f.requests, 10);
    assert.equal(f.errors, 2);
    assert.equal(f.seconds, 3);
    assert.equal(f.requestRate, 10 / 3);
    assert.equal(f.p50Ms, 5);
    assert.equal(f.p90Ms, 9);
    assert.equal(f.p99Ms, 10);
    assert.equal(f.avgMs, 5.5);
    assert.equal(f.clientCpu, 1 / 3); // 1 s of CPU in 3 s
    assert.equal(f.peakClientCpu, 0.5);
  });
});

describe('the server-side split', () => {
  const report = (inferences: number, executions: number, queue: [number, number], input: [number, number], infer: [number, number], output: [number, number]) => ({
    model_stats: [{
      inference_count: inferences,
      execution_count: executions,
      inference_stats: {
        queue: { count: queue[0], ns: queue[1] },
        compute_input: { count: input[0], ns: input[1] },
        compute_infer: { count: infer[0], ns: infer[1] },
        compute_output: { count: output[0], ns: output[1] },
      },
    }],
  });

  test('is the per-request mean of each phase and inferences per execution, between two snapshots', () => {
    const before = snapshotFromReport(report(100, 50, [100, 1_000_000], [100, 500_000], [100, 2_000_000], [100, 300_000]));
    const after = snapshotFromReport(report(500, 150, [500, 9_000_000], [500, 2_500_000], [500, 42_000_000], [500, 1_100_000]));
    assert.deepEqual(serverSplit(before, after), { queueUs: 20, computeInputUs: 5, computeInferUs: 100, computeOutputUs: 2, meanBatch: 4 });
  });

  test('adds up several versions and reads counts sent as strings', () => {
    const one = report(10, 5, [10, 10_000], [10, 0], [10, 0], [10, 0]).model_stats[0];
    const two = { ...one, inference_count: '30' as unknown as number, execution_count: 5 };
    const s = snapshotFromReport({ model_stats: [one, two] });
    assert.equal(s.inferenceCount, 40);
    assert.equal(s.executionCount, 10);
    assert.deepEqual(s.queue, { count: 20, ns: 20_000 });
  });

  test('is undefined when nothing ran between the snapshots', () => {
    const s = snapshotFromReport(report(1, 1, [1, 1], [1, 1], [1, 1], [1, 1]));
    assert.equal(serverSplit(s, s), undefined);
  });
});
