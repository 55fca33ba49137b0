/**
 * The observability flags, with Triton's names and defaults: metrics (`--allow-metrics`,
 * `--metrics-address`, `--metrics-interval-ms`, `--metrics-config`, ...), logging (`--log-info`,
 * `--log-format`, `--log-file`, ...) and tracing (`--trace-config`, Triton's current form; the
 * deprecated `--trace-file`/`--trace-level`/`--trace-rate` are not taken). cli-options.ts merges
 * these into the one parse, so every flag is still checked once, up front.
 */
import { parseTraceConfig, type TraceSetting } from './trace-settings.ts';

export interface MetricsOptions {
  readonly allowMetrics: boolean;
  readonly allowGpuMetrics: boolean;
  readonly allowCpuMetrics: boolean;
  /** Address the metrics server listens on; null: --http-address when HTTP is on, else 0.0.0.0 (Triton). */
  readonly metricsAddress: string | null;
  /** How often CPU and GPU gauges are read, in ms. */
  readonly metricsIntervalMs: number;
  /** `--metrics-config counter_latencies=...` (default true): the cumulative *_duration_us counters. */
  readonly counterLatencies: boolean;
  /** `--metrics-config summary_latencies=true`: the *_summary_us summaries. */
  readonly summaryLatencies: boolean;
  /** `--metrics-config histogram_latencies=true`: nv_inference_first_response_histogram_ms. */
  readonly histogramLatencies: boolean;
  /** `--metrics-config summary_quantiles=0.5:0.05,0.9:0.01`: quantiles (the error part is read, not used). */
  readonly summaryQuantiles: readonly number[];
}

/** Triton's two text formats, and pino's JSON lines. */
export type LogFormat = 'default' | 'ISO8601' | 'json';

/** Every --log-format value, in the order messages list them. */
export const LOG_FORMATS: readonly LogFormat[] = ['default', 'ISO8601', 'json'];

export interface LogOptions {
  readonly logInfo: boolean;
  readonly logWarning: boolean;
  readonly logError: boolean;
  readonly logFormat: LogFormat;
  /** '' writes to stdout. */
  readonly logFile: string;
}

export const DEFAULT_METRICS_OPTIONS: MetricsOptions = Object.freeze({
  allowMetrics: true,
  allowGpuMetrics: true,
  allowCpuMetrics: true,
  metricsAddress: null,
  metricsIntervalMs: 2000, // 2 s, Triton's default
  counterLatencies: true,
  summaryLatencies: false,
  histogramLatencies: false,
  summaryQuantiles: Object.freeze([0.5, 0.9, 0.95, 0.99, 0.999]), // Triton's default quantiles
});

export const DEFAULT_LOG_OPTIONS: LogOptions = Object.freeze({
  logInfo: true,
  logWarning: true,
  logError: true,
  logFormat: 'default',
  logFile: '',
});

/** Boolean flags, which take `--flag false`, `--flag=false` or a bare `--flag`. */
export const OBSERVABILITY_BOOLEAN_FLAGS = ['allow-metrics', 'allow-gpu-metrics', 'allow-cpu-metrics', 'log-info', 'log-warning', 'log-error'] as const;

/** parseArgs entries for these flags. */
export const OBSERVABILITY_SPEC = {
  'allow-metrics': { type: 'string' },
  'allow-gpu-metrics': { type: 'string' },
  'allow-cpu-metrics': { type: 'string' },
  'metrics-address': { type: 'string' },
  'metrics-interval-ms': { type: 'string' },
  'metrics-config': { type: 'string', multiple: true },
  'log-info': { type: 'string' },
  'log-warning': { type: 'string' },
  'log-error': { type: 'string' },
  'log-format': { type: 'string' },
  'log-file': { type: 'string' },
  'trace-config': { type: 'string', multiple: true },
} as const;

export const OBSERVABILITY_USAGE = `
  --allow-metrics=BOOL          serve Prometheus metrics on --metrics-port (default true)
  --allow-gpu-metrics=BOOL      GPU gauges, when there are GPUs (default true)
  --allow-cpu-metrics=BOOL      CPU and memory gauges (default true)
  --metrics-address=ADDR        metrics address (default: --http-address, or 0.0.0.0 without HTTP)
  --metrics-interval-ms=N       how often CPU and GPU gauges are read (default 2000)
  --metrics-config=K=V          counter_latencies, summary_latencies, histogram_latencies (true or
                                false), summary_quantiles=Q:E,Q:E,... (repeatable)
  --log-info=BOOL               info logs (default true); also --log-warning, --log-error
  --log-format=FORMAT           default or ISO8601 (Triton's text lines), or json (default: default)
  --log-file=PATH               write logs to this file instead of stdout
  --trace-config=SETTING        level=OFF|TIMESTAMPS|TENSORS, rate=N, count=N, mode=triton,
                                triton,file=PATH, triton,log-frequency=N (repeatable)
`;

interface ObservabilityOptions {
  readonly metrics: MetricsOptions;
  readonly log: LogOptions;
  readonly trace: TraceSetting;
}

type Values = Record<string, unknown>;
type BoolReader = (values: Values, flag: string, fallback: boolean) => boolean;
type IntReader = (values: Values, flag: string, fallback: number, min: number) => number;

/** Reads the observability flags out of parsed values; throws a TypeError/RangeError naming the flag. */
export function parseObservabilityOptions(values: Values, bool: BoolReader, integer: IntReader): ObservabilityOptions {
  const d = DEFAULT_METRICS_OPTIONS;
  if (values['metrics-address'] === '') throw new TypeError('--metrics-address must not be empty');
  const metrics: MetricsOptions = Object.freeze({
    allowMetrics: bool(values, 'allow-metrics', d.allowMetrics),
    allowGpuMetrics: bool(values, 'allow-gpu-metrics', d.allowGpuMetrics),
    allowCpuMetrics: bool(values, 'allow-cpu-metrics', d.allowCpuMetrics),
    metricsAddress: (values['metrics-address'] as string | undefined) ?? d.metricsAddress,
    metricsIntervalMs: integer(values, 'metrics-interval-ms', d.metricsIntervalMs, 1),
    ...metricsConfig((values['metrics-config'] as string[] | undefined) ?? []),
  });
  const format = (values['log-format'] as string | undefined) ?? DEFAULT_LOG_OPTIONS.logFormat;
  if (!(LOG_FORMATS as readonly string[]).includes(format)) throw new TypeError(`--log-format must be default, ISO8601 or json (got '${format}')`);
  if (values['log-file'] === '') throw new TypeError('--log-file must not be empty');
  const log: LogOptions = Object.freeze({
    logInfo: bool(values, 'log-info', DEFAULT_LOG_OPTIONS.logInfo),
    logWarning: bool(values, 'log-warning', DEFAULT_LOG_OPTIONS.logWarning),
    logError: bool(values, 'log-error', DEFAULT_LOG_OPTIONS.logError),
    logFormat: format as LogFormat,
    logFile: (values['log-file'] as string | undefined) ?? DEFAULT_LOG_OPTIONS.logFile,
  });
  const trace = parseTraceConfig((values['trace-config'] as string[] | undefined) ?? []);
  return Object.freeze({ metrics, log, trace });
}

type LatencyConfig = Pick<MetricsOptions, 'counterLatencies' | 'summaryLatencies' | 'histogramLatencies' | 'summaryQuantiles'>;

/** `--metrics-config [group,]key=value` entries; Triton's settings are all global (no group). */
function metricsConfig(entries: readonly string[]): LatencyConfig {
  const d = DEFAULT_METRICS_OPTIONS;
  const out = { counterLatencies: d.counterLatencies, summaryLatencies: d.summaryLatencies, histogramLatencies: d.histogramLatencies, summaryQuantiles: d.summaryQuantiles };
  for (const entry of entries) {
    const m = /^([a-z_]+)=(.*)$/.exec(entry);
    if (!m) throw new TypeError(`--metrics-config must be <setting>=<value> (got '${entry}')`);
    const [, key, value] = m;
    const flag = (v: string) => {
      if (v === 'true' || v === 'false') return v === 'true';
      throw new TypeError(`--metrics-config ${key} must be true or false (got '${v}')`);
    };
    if (key === 'counter_latencies') out.counterLatencies = flag(value);
    else if (key === 'summary_latencies') out.summaryLatencies = flag(value);
    else if (key === 'histogram_latencies') out.histogramLatencies = flag(value);
    else if (key === 'summary_quantiles') out.summaryQuantiles = quantiles(value);
    else throw new TypeError(`--metrics-config has no setting '${key}' (known: counter_latencies, summary_latencies, histogram_latencies, summary_quantiles)`);
  }
  return out;
}

/** `0.5:0.05,0.9:0.01`: each quantile in (0, 1), with its allowed error after the colon. */
function quantiles(text: string): readonly number[] {
  const list = text.replace(/^"|"$/g, '').split(',').map((pair) => {
    const [q, error, extra] = pair.split(':');
    const n = Number(q);
    if (extra !== undefined || error === undefined || q.trim() === '' || !(n > 0 && n < 1) || !(Number(error) >= 0 && Number(error) < 1)) {
      throw new TypeError(`--metrics-config summary_quantiles must be <quantile>:<error> pairs separated by commas, each quantile between 0 and 1 (got '${pair}')`);
    }
    return n;
  });
  return Object.freeze([...new Set(list)].sort((a, b) => a - b));
}
