import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_PLOT, DEFAULTS, parseBenchOptions, parseRange, parseShape, QUICK } from '../../bench/options.ts';

describe('benchmark ranges', () => {
  const cases: { input: string; integer: boolean; output?: number[]; error?: RegExp }[] = [
    { input: '4', integer: true, output: [4] },
    { input: '1:4', integer: true, output: [1, 2, 3, 4] },
    { input: '1:9:4', integer: true, output: [1, 5, 9] },
    { input: '2:7:2', integer: true, output: [2, 4, 6] },
    { input: '1,8,32', integer: true, output: [1, 8, 32] },
    { input: '0.5:1.5:0.5', integer: false, output: [0.5, 1, 1.5] },
    { input: '0.1:0.3:0.1', integer: false, output: [0.1, 0.2, 0.3] },
    { input: '100:300:100', integer: false, output: [100, 200, 300] },
    { input: '0', integer: true, error: /--concurrency-range must be start\[:end\[:step\]\].*\(got '0'\)/ },
    { input: '1.5', integer: true, error: /positive integers/ },
    { input: '4:2', integer: true, error: /end 2 is below start 4/ },
    { input: '1:2:3:4', integer: true, error: /must be start/ },
    { input: 'a:b', integer: true, error: /must be start/ },
    { input: '1:8:0', integer: true, error: /must be start/ },
    { input: '1,2:3', integer: true, error: /must be start/ },
    { input: '-1', integer: true, error: /must be start/ },
  ];
  for (const c of cases) {
    test(`'${c.input}' ${c.error ? 'is refused' : `expands to ${c.output!.join(', ')}`}`, () => {
      if (c.error) {
        assert.throws(() => parseRange('concurrency-range', c.input, c.integer), c.error);
        return;
      }
      const values = parseRange('concurrency-range', c.input, c.integer);
      assert.deepEqual(values, c.output);
      // Round trip: the values written as a list expand to themselves.
      assert.deepEqual(parseRange('concurrency-range', values.join(','), c.integer), values);
    });
  }
});

describe('benchmark --shape', () => {
  test('splits the name from the dims at the last colon', () => {
    assert.deepEqual(parseShape('INPUT0:3,224,224'), ['INPUT0', [3, 224, 224]]);
    assert.deepEqual(parseShape('ns:input:8'), ['ns:input', [8]]);
  });

  test('refuses a missing name, missing dims and dims that are not positive integers', () => {
    for (const bad of ['INPUT0', ':4', 'INPUT0:', 'INPUT0:0', 'INPUT0:2,x', 'INPUT0:1.5']) {
      assert.throws(() => parseShape(bad), /--shape must be NAME:d1,d2,\.\.\./, bad);
    }
  });
});

describe('benchmark options', () => {
  test("default to perf_analyzer's windows, one client, binary HTTP, the simple model", () => {
    const o = parseBenchOptions([]);
    assert.equal(o.url, null);
    assert.equal(o.model, 'simple');
    assert.equal(o.benchModel, 'simple');
    assert.deepEqual(o.protocols, ['http-binary']);
    assert.deepEqual(o.load, { mode: 'concurrency', values: [1] });
    assert.equal(o.measurementIntervalMs, 5000);
    assert.equal(o.stabilityPercentage, 10);
    assert.equal(o.maxTrials, 10);
    assert.equal(o.percentile, null);
    assert.equal(o.batchSize, DEFAULTS.batchSize);
    assert.deepEqual(o.inputData, { kind: 'zeros' });
    assert.equal(o.compare, false);
    assert.ok(Object.isFrozen(o));
    assert.ok(Object.isFrozen(o.protocols));
  });

  test('--quick compares the MLP at 1, 8 and 32 clients over binary HTTP with short windows', () => {
    const o = parseBenchOptions(['--quick']);
    assert.equal(o.model, 'mlp');
    assert.equal(o.compare, true);
    assert.deepEqual(o.load.values, [...QUICK.concurrency]);
    assert.deepEqual(o.protocols, ['http-binary']);
    assert.ok(o.measurementIntervalMs < DEFAULTS.measurementIntervalMs);
    assert.ok(o.maxTrials <= 4);
    assert.equal(o.baselineThreads, 1);
    assert.equal(o.plot, DEFAULT_PLOT);
  });

  test('--bench-model resnet serves the generated ResNet; --plot names the SVG, and plots are off without --compare', () => {
    const o = parseBenchOptions(['--bench-model', 'resnet', '--compare', '--plot', 'x/p.svg']);
    assert.equal(o.model, 'resnet');
    assert.equal(o.plot, 'x/p.svg');
    assert.equal(parseBenchOptions([]).plot, null);
    assert.equal(parseBenchOptions(['--plot', 'q.svg']).plot, 'q.svg');
  });

  test('flags given beside --quick win', () => {
    const o = parseBenchOptions(['--quick', '-p', '3000', '--concurrency-range', '2:4:2', '-i', 'grpc']);
    assert.equal(o.measurementIntervalMs, 3000);
    assert.deepEqual(o.load.values, [2, 4]);
    assert.deepEqual(o.protocols, ['grpc']);
  });

  test("take perf_analyzer's short flags and a running server", () => {
    const o = parseBenchOptions(['-u', 'http://10.0.0.2:8000/', '-m', 'resnet', '-b', '4', '-i', 'http,grpc,shm,http', '-p', '2000', '-s', '5', '-r', '6', '--percentile', '95', '-x', '2']);
    assert.equal(o.url, 'http://10.0.0.2:8000');
    assert.equal(o.model, 'resnet');
    assert.equal(o.modelVersion, '2');
    assert.equal(o.batchSize, 4);
    assert.deepEqual(o.protocols, ['http-binary', 'grpc', 'shm']);
    assert.equal(o.measurementIntervalMs, 2000);
    assert.equal(o.stabilityPercentage, 5);
    assert.equal(o.maxTrials, 6);
    assert.equal(o.percentile, 95);
  });

  test('take an open loop, input data and shapes', () => {
    const o = parseBenchOptions(['--request-rate-range', '100:200:50', '--request-distribution', 'poisson', '--input-data', 'data/in.json', '--shape', 'A:3,4', '--shape', 'B:7']);
    assert.deepEqual(o.load, { mode: 'request-rate', values: [100, 150, 200] });
    assert.equal(o.requestDistribution, 'poisson');
    assert.deepEqual(o.inputData, { kind: 'file', path: 'data/in.json' });
    assert.deepEqual(o.shapes, { A: [3, 4], B: [7] });
  });

  const refusals: [string[], RegExp][] = [
    [['--concurrency-range', '1', '--request-rate-range', '5'], /exclude each other/],
    [['--protocol', 'udp'], /--protocol takes http, http-binary, http-json, grpc or shm/],
    [['--bench-model', 'bert'], /--bench-model must be simple, mlp or resnet/],
    [['--plot', 'out.png'], /--plot must name an \.svg file/],
    [['-p', '0'], /--measurement-interval must be a positive integer \(got '0'\)/],
    [['-r', '2.5'], /--max-trials must be a positive integer/],
    [['--stability-percentage=-3'], /--stability-percentage must be a positive number/],
    [['--percentile', '100'], /--percentile must be between 1 and 99/],
    [['-b', 'two'], /--batch-size must be a positive integer/],
    [['--input-data', 'ones'], /--input-data must be zeros, random or a \.json file/],
    [['--url', 'localhost:8000', '-m', 'x'], /--url must be http:\/\/host:port/],
    [['--url', 'http://h:8000'], /--url needs -m\/--model/],
    [['--grpc-url', 'http://h:8001'], /--grpc-url must be host:port/],
    [['--url', 'http://h:1', '-m', 'x', '--compare'], /--compare against a running server \(--url\) needs --model-file/],
    [['--model-repository', 'r'], /--model-repository needs -m\/--model/],
    [['--compare', '--request-rate-range', '10'], /--compare measures the baselines at each concurrency/],
    [['--no-such-flag'], /no-such-flag/],
  ];
  for (const [argv, message] of refusals) {
    test(`refuse ${argv.join(' ')} with a message that names the flag`, () => {
      assert.throws(() => parseBenchOptions(argv), (err: unknown) => err instanceof RangeError && message.test(err.message));
    });
  }
});

describe('benchmark CPU pinning', () => {
  test('--server-cpus and --client-cpus take taskset lists', () => {
    const o = parseBenchOptions(['--server-cpus', '1', '--client-cpus', '0,2-3']);
    assert.equal(o.serverCpus, '1');
    assert.equal(o.clientCpus, '0,2-3');
    const none = parseBenchOptions([]);
    assert.equal(none.serverCpus, null);
    assert.equal(none.clientCpus, null);
  });
  for (const bad of ['one', '1;rm', '1,', '1-', '']) {
    test(`'${bad}' is refused, naming the flag`, () => {
      assert.throws(() => parseBenchOptions(['--server-cpus', bad]), new RegExp(`--server-cpus must be a CPU list .*\\(got '${bad.replace(/[-;,]/g, '\\$&')}'\\)`));
    });
  }
});
