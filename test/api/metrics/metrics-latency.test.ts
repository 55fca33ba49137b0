import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { LatencyHistogram, LatencySummary } from '../../../src/api/metrics/metrics-latency.ts';
import { parseMetrics, sampleValue } from '../../helpers/metrics.ts';

describe('latency summaries', () => {
  test('give each quantile within 1% of the exact value, with the exact sum and count', async () => {
    const prom = new Registry();
    const summary = new LatencySummary({ name: 'lat_us', help: 'h', quantiles: [0.5, 0.9, 0.99], maxAgeSeconds: 60, ageSlots: 5 }, prom);
    const series = summary.series({ model: 'm', version: '1' });
    const values = Array.from({ length: 10_000 }, (_, i) => 100 + ((i * 7919) % 10_000));
    for (const v of values) series.observe(v);
    const samples = parseMetrics(await prom.metrics());
    const sorted = [...values].sort((a, b) => a - b);
    for (const q of [0.5, 0.9, 0.99]) {
      const exact = sorted[Math.ceil(q * sorted.length) - 1];
      const got = sampleValue(samples, 'lat_us', { model: 'm', version: '1', quantile: String(q) })!;
      assert.ok(Math.abs(got - exact) <= exact * 0.011, `q${q}: ${got} vs ${exact}`);
    }
    assert.equal(sampleValue(samples, 'lat_us_sum', { model: 'm', version: '1' }), values.reduce((a, b) => a + b, 0));
    assert.equal(sampleValue(samples, 'lat_us_count', { model: 'm', version: '1' }), values.length);
    summary.close();
  });

  test('forget values once every slot of the window has rotated past them, keeping sum and count', async () => {
    const prom = new Registry();
    const summary = new LatencySummary({ name: 's', help: 'h', quantiles: [0.5], maxAgeSeconds: 60, ageSlots: 3 }, prom);
    const series = summary.series({});
    series.observe(50);
    for (let i = 0; i < 2; i++) series.rotate();
    assert.equal(sampleValue(parseMetrics(await prom.metrics()), 's', { quantile: '0.5' }), 50);
    series.rotate();
    const samples = parseMetrics(await prom.metrics());
    assert.ok(Number.isNaN(sampleValue(samples, 's', { quantile: '0.5' })));
    assert.equal(sampleValue(samples, 's_count'), 1);
    summary.close();
  });
});

describe('latency histograms', () => {
  test('count each value in the first bucket whose bound holds it, cumulatively', async () => {
    const prom = new Registry();
    const series = new LatencyHistogram('h_ms', 'h', [100, 500], prom).series({ model: 'm' });
    for (const v of [0, 100, 101, 499, 9000]) series.observe(v);
    const samples = parseMetrics(await prom.metrics());
    const bucket = (le: string) => sampleValue(samples, 'h_ms_bucket', { model: 'm', le });
    assert.deepEqual([bucket('100'), bucket('500'), bucket('+Inf')], [2, 4, 5]);
    assert.equal(sampleValue(samples, 'h_ms_sum', { model: 'm' }), 9700);
    assert.equal(sampleValue(samples, 'h_ms_count', { model: 'm' }), 5);
  });
});
