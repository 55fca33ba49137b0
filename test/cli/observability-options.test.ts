import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseCliOptions } from '../../src/cli/cli-options.ts';
import { DEFAULT_LOG_OPTIONS, DEFAULT_METRICS_OPTIONS } from '../../src/cli/observability-options.ts';
import { DEFAULT_TRACE_SETTING } from '../../src/cli/trace-settings.ts';

type Options = ReturnType<typeof parseCliOptions>;

describe('observability flag defaults', () => {
  test("are Triton's: metrics on with CPU and GPU gauges every 2 s, logs to stdout, tracing off", () => {
    const o = parseCliOptions([]);
    assert.deepEqual(o.metrics, {
      allowMetrics: true, allowGpuMetrics: true, allowCpuMetrics: true, metricsAddress: null, metricsIntervalMs: 2000,
      counterLatencies: true, summaryLatencies: false, histogramLatencies: false, summaryQuantiles: [0.5, 0.9, 0.95, 0.99, 0.999],
    });
    assert.deepEqual(o.metrics, DEFAULT_METRICS_OPTIONS);
    assert.deepEqual(o.log, DEFAULT_LOG_OPTIONS);
    assert.deepEqual(o.trace, { level: [], rate: 1000, count: -1, logFrequency: 0, file: '' });
    assert.deepEqual(o.trace, DEFAULT_TRACE_SETTING);
  });
});

describe('observability flags', () => {
  const cases: { name: string; args: string[]; read: (o: Options) => unknown; output: unknown }[] = [
    { name: '--allow-metrics false', args: ['--allow-metrics', 'false'], read: (o) => o.metrics.allowMetrics, output: false },
    { name: 'a bare --allow-gpu-metrics', args: ['--allow-gpu-metrics', '--http-port=1'], read: (o) => o.metrics.allowGpuMetrics, output: true },
    { name: '--allow-cpu-metrics=no', args: ['--allow-cpu-metrics=no'], read: (o) => o.metrics.allowCpuMetrics, output: false },
    { name: '--metrics-address', args: ['--metrics-address=127.0.0.1'], read: (o) => o.metrics.metricsAddress, output: '127.0.0.1' },
    { name: '--metrics-interval-ms', args: ['--metrics-interval-ms', '500'], read: (o) => o.metrics.metricsIntervalMs, output: 500 },
    { name: 'summary_latencies', args: ['--metrics-config', 'summary_latencies=true'], read: (o) => o.metrics.summaryLatencies, output: true },
    { name: 'counter_latencies', args: ['--metrics-config=counter_latencies=false'], read: (o) => o.metrics.counterLatencies, output: false },
    { name: 'histogram_latencies', args: ['--metrics-config=histogram_latencies=true'], read: (o) => o.metrics.histogramLatencies, output: true },
    { name: 'quoted summary_quantiles', args: ['--metrics-config=summary_quantiles="0.9:0.01,0.5:0.05"'], read: (o) => o.metrics.summaryQuantiles, output: [0.5, 0.9] },
    { name: '--log-info false', args: ['--log-info', 'false'], read: (o) => o.log.logInfo, output: false },
    { name: '--log-warning=0', args: ['--log-warning=0'], read: (o) => o.log.logWarning, output: false },
    { name: '--log-error off', args: ['--log-error', 'off'], read: (o) => o.log.logError, output: false },
    { name: '--log-format ISO8601', args: ['--log-format', 'ISO8601'], read: (o) => o.log.logFormat, output: 'ISO8601' },
    { name: '--log-format=json', args: ['--log-format=json'], read: (o) => o.log.logFormat, output: 'json' },
    { name: '--log-file', args: ['--log-file=/tmp/n.log'], read: (o) => o.log.logFile, output: '/tmp/n.log' },
    {
      name: "Triton's --trace-config example",
      args: ['--trace-config', 'triton,file=/tmp/trace.json', '--trace-config', 'triton,log-frequency=50', '--trace-config', 'rate=100', '--trace-config', 'level=TIMESTAMPS', '--trace-config', 'count=100'],
      read: (o) => o.trace,
      output: { level: ['TIMESTAMPS'], rate: 100, count: 100, logFrequency: 50, file: '/tmp/trace.json' },
    },
    { name: 'two trace levels', args: ['--trace-config=level=TENSORS', '--trace-config=level=timestamps'], read: (o) => o.trace.level, output: ['TIMESTAMPS', 'TENSORS'] },
    { name: 'a last level=OFF', args: ['--trace-config=level=TENSORS', '--trace-config=level=OFF'], read: (o) => o.trace.level, output: [] },
    { name: 'mode=triton', args: ['--trace-config=mode=triton'], read: (o) => o.trace, output: DEFAULT_TRACE_SETTING },
  ];
  for (const c of cases) {
    test(`read ${c.name}`, () => {
      const o = parseCliOptions(c.args);
      assert.deepEqual(c.read(o), c.output);
      assert.ok(Object.isFrozen(o.metrics) && Object.isFrozen(o.log) && Object.isFrozen(o.trace));
    });
  }

  const errors: [string[], RegExp][] = [
    [['--allow-metrics=maybe'], /^--allow-metrics must be true or false \(got 'maybe'\)/],
    [['--metrics-interval-ms=0'], /^--metrics-interval-ms must be at least 1 \(got 0\)/],
    [['--metrics-interval-ms=2s'], /^--metrics-interval-ms must be an integer \(got '2s'\)/],
    [['--metrics-address='], /^--metrics-address must not be empty/],
    [['--metrics-config=summary_latencies'], /^--metrics-config must be <setting>=<value> \(got 'summary_latencies'\)/],
    [['--metrics-config=summary_latencies=yes'], /^--metrics-config summary_latencies must be true or false \(got 'yes'\)/],
    [['--metrics-config=gpu_latencies=true'], /^--metrics-config has no setting 'gpu_latencies'/],
    [['--metrics-config=summary_quantiles=0.5'], /^--metrics-config summary_quantiles must be <quantile>:<error> pairs .*\(got '0\.5'\)/],
    [['--metrics-config=summary_quantiles=1.5:0.1'], /summary_quantiles must be .*\(got '1\.5:0\.1'\)/],
    [['--log-format=glog'], /^--log-format must be default, ISO8601 or json \(got 'glog'\)/],
    [['--log-file='], /^--log-file must not be empty/],
    [['--log-info=2'], /^--log-info must be true or false/],
    [['--trace-config=level'], /^--trace-config must be <setting>=<value> or <mode>,<setting>=<value> \(got 'level'\)/],
    [['--trace-config=level=LOUD'], /^--trace-config level: unknown trace level 'LOUD'/],
    [['--trace-config=rate=-1'], /^Unable to parse '--trace-config rate', value is out of range \[ 0, 4294967295 \], got: -1/],
    [['--trace-config=count=x'], /^Unable to parse '--trace-config count', got: x/],
    [['--trace-config=mode=opentelemetry'], /^--trace-config: trace mode 'opentelemetry' is not supported; only 'triton' is/],
    [['--trace-config=opentelemetry,url=localhost:4318'], /^--trace-config: trace mode 'opentelemetry' is not supported/],
    [['--trace-config=triton,file='], /^--trace-config triton,file must not be empty/],
    [['--trace-config=file=/tmp/t.json'], /^--trace-config has no setting 'file'/],
    [['--trace-file=/tmp/t.json'], /^--trace-file is not supported: it is Triton's older trace flag; use --trace-config triton,file=PATH$/],
  ];
  for (const [args, message] of errors) {
    test(`refuse ${args.join(' ')} with a message naming the flag`, () => {
      assert.throws(() => parseCliOptions(args), (err: Error) => {
        assert.ok(err instanceof TypeError || err instanceof RangeError);
        assert.match(err.message, message);
        return true;
      });
    });
  }
});
