/**
 * Reading h2load's report (bench/h2load.ts). The text is h2load 1.52's, as Debian 12 ships it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseH2loadOutput } from '../../bench/h2load.ts';

const report = `starting benchmark...
spawning thread #0: 16 total client(s). Timing-based test with 1s of warm-up time and 5s of main duration for measurements.
Application protocol: h2c

finished in 6.00s, 14432.40 req/s, 5.89MB/s
requests: 72162 total, 72162 started, 72160 done, 72150 succeeded, 7 failed, 2 errored, 1 timeout
status codes: 72150 2xx, 0 3xx, 7 4xx, 0 5xx
traffic: 5.89MB (6178312) total, 1.69MB (1776232) headers (space savings 0.00%), 3.40MB (3568000) data
                     min         max         mean         sd        +/- sd
time for request:      312us     12.13ms      1.10ms       402us    88.16%
time for connect:      101us       213us       150us        31us    68.75%
`;

test('reads the throughput, the answered and failed requests, and the mean time of a request', () => {
  const r = parseH2loadOutput(report, 5);
  assert.equal(r.throughput, 14432.4);
  assert.equal(r.requests, 72150);
  assert.equal(r.errors, 10);
  assert.equal(r.seconds, 5);
  assert.equal(r.meanMs, 1.1);
  assert.ok(Number.isNaN(r.p99Ms), 'h2load gives no percentiles');
});

test('reads a mean given in microseconds', () => {
  assert.equal(parseH2loadOutput(report.replace('1.10ms', '620us'), 5).meanMs, 0.62);
});

test('throws, with the text, when the report has no figures', () => {
  assert.throws(() => parseH2loadOutput('connect: Connection refused\n', 5), /h2load gave no figures:\nconnect: Connection refused/);
});
