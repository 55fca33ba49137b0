/**
 * The benchmark client's command line, checked once into a frozen object. Flag names and
 * defaults follow Triton's perf_analyzer where it has the same idea (-m, -b, -u, -i, -p,
 * --concurrency-range, --request-rate-range, --measurement-interval, --stability-percentage,
 * --max-trials, --percentile, --input-data, --shape, --request-distribution); a message names
 * the flag and what it takes.
 */
import { parseArgs } from 'node:util';

/** How requests reach Nereid: HTTP with JSON or binary tensors, gRPC, or system shared memory (over HTTP). */
export type LoadProtocol = 'http-json' | 'http-binary' | 'grpc' | 'shm';

/** The repositories the client can generate and serve itself. */
export type BenchModel = 'simple' | 'mlp' | 'resnet';

export type InputData = { readonly kind: 'zeros' } | { readonly kind: 'random' } | { readonly kind: 'file'; readonly path: string };

export interface BenchOptions {
  /** Nereid's HTTP address (http://host:port) when it is already running; otherwise the client starts one. */
  readonly url: string | null;
  /** Nereid's gRPC address (host:port); default: the --url host on port 8001. */
  readonly grpcUrl: string | null;
  /** The repository the self-started server serves (default: the one of --bench-model). */
  readonly modelRepository: string | null;
  readonly benchModel: BenchModel;
  /** The model to load (default: the --bench-model's). */
  readonly model: string;
  readonly modelVersion: string | null;
  /** The ONNX file for the baselines (default: found in the self-started repository). */
  readonly modelFile: string | null;
  readonly protocols: readonly LoadProtocol[];
  /** Closed loop at each concurrency, or open loop at each request rate (requests per second). */
  readonly load: { readonly mode: 'concurrency' | 'request-rate'; readonly values: readonly number[] };
  readonly requestDistribution: 'constant' | 'poisson';
  readonly measurementIntervalMs: number;
  readonly warmupMs: number;
  readonly stabilityPercentage: number;
  readonly maxTrials: number;
  /** The latency percentile the stability rule compares (null: the mean, as perf_analyzer). */
  readonly percentile: number | null;
  readonly batchSize: number;
  readonly inputData: InputData;
  /** Dims for inputs with variable dims, without the batch dim. */
  readonly shapes: Readonly<Record<string, readonly number[]>>;
  /** Bytes set aside per output in shared memory when its shape is variable. */
  readonly outputSharedMemorySize: number;
  /** Also measure the naive server and the in-process ceiling. */
  readonly compare: boolean;
  /** onnxruntime intra-op threads of the naive server and the ceiling. */
  readonly baselineThreads: number;
  readonly quick: boolean;
  readonly json: string | null;
  readonly csv: string | null;
  /** Where the SVG plots go (null: none). */
  readonly plot: string | null;
  /** taskset CPU lists: the servers started here run on `serverCpus`, the load on `clientCpus`. */
  readonly serverCpus: string | null;
  readonly clientCpus: string | null;
  readonly help: boolean;
}

/** Defaults, with units in the names. */
export const DEFAULTS = {
  measurementIntervalMs: 5000,
  warmupMs: 1000,
  stabilityPercentage: 10,
  maxTrials: 10,
  batchSize: 1,
  outputSharedMemorySize: 102400,
  baselineThreads: 1,
} as const;

/** Where --compare draws its plots unless --plot says otherwise. */
export const DEFAULT_PLOT = 'bench/out/plots.svg';

/** What --quick sets (flags given beside it still win): the MLP comparison in under two minutes. */
export const QUICK = {
  benchModel: 'mlp',
  concurrency: [1, 8, 32],
  protocols: ['http-binary'],
  measurementIntervalMs: 1500,
  warmupMs: 1000,
  maxTrials: 4,
} as const;

export const USAGE = `npm run bench -- [options]        (the old suites: npm run bench -- --suite simple|mlp|all)

  -u, --url URL                  a running Nereid's HTTP address (default: start one here)
      --grpc-url HOST:PORT       its gRPC address (default: the --url host, port 8001)
      --model-repository DIR     the repository a self-started server serves
      --bench-model simple|mlp|resnet  the model to generate (mlp, resnet: bench/models) and serve
                                 (default simple, from model_repository; --quick: mlp)
  -m, --model NAME               the model to load (default: the bench model's)
  -x, --model-version V
      --model-file FILE          the ONNX file the baselines run (default: found in the repository)
  -i, --protocol LIST            http-binary (or http), http-json, grpc, shm; comma-separated
      --concurrency-range S[:E[:STEP]]   closed loop, swept (a comma list such as 1,8,32 works too)
      --request-rate-range S[:E[:STEP]]  open loop at these requests per second
      --request-distribution constant|poisson
  -p, --measurement-interval MS  window length (default 5000)
      --warmup MS                load before the first window (default 1000)
  -s, --stability-percentage P   (default 10)
  -r, --max-trials N             windows before a point is reported unstable (default 10)
      --percentile P             compare this latency percentile for stability (default: the mean)
  -b, --batch-size N             (default 1)
      --input-data zeros|random|FILE.json
      --shape NAME:D1,D2,...     dims of an input with variable dims (repeatable)
      --output-shared-memory-size BYTES
      --compare                  also the naive server and the in-process ceiling, with ratios
      --baseline-threads N       runtime threads of the baselines (default 1)
      --quick                    the MLP comparison at 1, 8 and 32 clients, short windows
      --json FILE, --csv FILE    write the rows
      --plot FILE.svg            throughput and latency plots (default with --compare: bench/out/plots.svg)
      --server-cpus LIST         run the servers started here on these CPUs (taskset list, e.g. 1)
      --client-cpus LIST         run the load generator on these CPUs (e.g. 0)
  -h, --help
`;

const optionSpec = {
  url: { type: 'string', short: 'u' },
  'grpc-url': { type: 'string' },
  'model-repository': { type: 'string' },
  'bench-model': { type: 'string' },
  model: { type: 'string', short: 'm' },
  'model-version': { type: 'string', short: 'x' },
  'model-file': { type: 'string' },
  protocol: { type: 'string', short: 'i' },
  'concurrency-range': { type: 'string' },
  'request-rate-range': { type: 'string' },
  'request-distribution': { type: 'string' },
  'measurement-interval': { type: 'string', short: 'p' },
  warmup: { type: 'string' },
  'stability-percentage': { type: 'string', short: 's' },
  'max-trials': { type: 'string', short: 'r' },
  percentile: { type: 'string' },
  'batch-size': { type: 'string', short: 'b' },
  'input-data': { type: 'string' },
  shape: { type: 'string', multiple: true },
  'output-shared-memory-size': { type: 'string' },
  compare: { type: 'boolean' },
  'baseline-threads': { type: 'string' },
  quick: { type: 'boolean' },
  json: { type: 'string' },
  csv: { type: 'string' },
  plot: { type: 'string' },
  'server-cpus': { type: 'string' },
  'client-cpus': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * A perf_analyzer range `start[:end[:step]]` (end defaults to start, step to 1), expanded into
 * its values, or a comma-separated list. `integer` demands whole numbers (concurrency).
 */
export function parseRange(flag: string, text: string, integer: boolean): number[] {
  const what = integer ? 'positive integers' : 'positive numbers';
  const bad = () => new RangeError(`--${flag} must be start[:end[:step]] or a comma list of ${what} (got '${text}')`);
  const num = (s: string) => {
    if (!/^\d+(\.\d+)?$/.test(s.trim())) throw bad();
    const n = Number(s);
    if (!(n > 0) || (integer && !Number.isInteger(n))) throw bad();
    return n;
  };
  if (text.includes(',')) {
    if (text.includes(':')) throw bad();
    return text.split(',').map(num);
  }
  const parts = text.split(':');
  if (parts.length > 3) throw bad();
  const [start, end, step] = [num(parts[0]), parts[1] === undefined ? undefined : num(parts[1]), parts[2] === undefined ? 1 : num(parts[2])];
  const last = end ?? start;
  if (last < start) throw new RangeError(`--${flag}: end ${last} is below start ${start}`);
  const values: number[] = [];
  // Counting steps rather than adding them keeps 0.1 + 0.2 from drifting past the end.
  for (let i = 0; start + i * step <= last + 1e-9; i++) values.push(Number((start + i * step).toFixed(6)));
  return values;
}

/** `NAME:d1,d2,...` → [name, dims]; dims are positive integers. */
export function parseShape(text: string): [string, number[]] {
  const at = text.lastIndexOf(':');
  const dims = at > 0 ? text.slice(at + 1).split(',') : [];
  if (at <= 0 || dims.length === 0 || dims.some((d) => !/^\d+$/.test(d) || Number(d) < 1)) {
    throw new RangeError(`--shape must be NAME:d1,d2,... with positive integer dims (got '${text}')`);
  }
  return [text.slice(0, at), dims.map(Number)];
}

function protocolList(text: string): LoadProtocol[] {
  const aliases: Record<string, LoadProtocol> = { http: 'http-binary', 'http-binary': 'http-binary', 'http-json': 'http-json', grpc: 'grpc', shm: 'shm', system: 'shm' };
  const list = text.split(',').map((p) => {
    const protocol = aliases[p.trim()];
    if (!protocol) throw new RangeError(`--protocol takes http, http-binary, http-json, grpc or shm, comma-separated (got '${p}')`);
    return protocol;
  });
  return [...new Set(list)];
}

function number(flag: string, text: string | undefined, fallback: number, rule: 'positive integer' | 'non-negative integer' | 'positive number'): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  const ok = text.trim() !== '' && Number.isFinite(n) && (rule === 'positive number' ? n > 0 : Number.isInteger(n) && (rule === 'positive integer' ? n >= 1 : n >= 0));
  if (!ok) throw new RangeError(`--${flag} must be a ${rule} (got '${text}')`);
  return n;
}

const BENCH_MODEL_NAMES: Record<BenchModel, string> = { simple: 'simple', mlp: 'mlp', resnet: 'resnet' };

/** Parses and checks the command line (without node and script); throws a RangeError naming the flag. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  let values;
  try {
    ({ values } = parseArgs({ args: [...argv], options: optionSpec, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new RangeError((err as Error).message);
  }
  const quick = values.quick === true;
  if (values['concurrency-range'] !== undefined && values['request-rate-range'] !== undefined) {
    throw new RangeError('--concurrency-range and --request-rate-range exclude each other');
  }
  const benchModelText = values['bench-model'] ?? (quick ? QUICK.benchModel : 'simple');
  if (!(benchModelText in BENCH_MODEL_NAMES)) throw new RangeError(`--bench-model must be simple, mlp or resnet (got '${benchModelText}')`);
  const benchModel = benchModelText as BenchModel;
  const load = values['request-rate-range'] !== undefined
    ? { mode: 'request-rate' as const, values: parseRange('request-rate-range', values['request-rate-range'], false) }
    : { mode: 'concurrency' as const, values: values['concurrency-range'] !== undefined ? parseRange('concurrency-range', values['concurrency-range'], true) : quick ? [...QUICK.concurrency] : [1] };
  const distribution = values['request-distribution'] ?? 'constant';
  if (distribution !== 'constant' && distribution !== 'poisson') throw new RangeError(`--request-distribution must be constant or poisson (got '${distribution}')`);
  const stabilityPercentage = number('stability-percentage', values['stability-percentage'], DEFAULTS.stabilityPercentage, 'positive number');
  const percentileValue = values.percentile === undefined ? null : number('percentile', values.percentile, 0, 'positive integer');
  if (percentileValue !== null && percentileValue > 99) throw new RangeError(`--percentile must be between 1 and 99 (got '${values.percentile}')`);
  const inputText = values['input-data'] ?? 'zeros';
  const inputData: InputData = inputText === 'zeros' || inputText === 'random' ? { kind: inputText } : { kind: 'file', path: inputText };
  if (inputData.kind === 'file' && !inputText.endsWith('.json')) throw new RangeError(`--input-data must be zeros, random or a .json file (got '${inputText}')`);
  const shapes: Record<string, number[]> = {};
  for (const text of values.shape ?? []) {
    const [name, dims] = parseShape(text);
    shapes[name] = dims;
  }
  if (values.url !== undefined && !/^https?:\/\/[^/]+\/?$/.test(values.url)) throw new RangeError(`--url must be http://host:port (got '${values.url}')`);
  if (values['grpc-url'] !== undefined && !/^[^/:]+:\d+$/.test(values['grpc-url'])) throw new RangeError(`--grpc-url must be host:port (got '${values['grpc-url']}')`);
  if (values.url !== undefined && values['model-repository'] !== undefined) throw new RangeError('--url and --model-repository exclude each other (the repository is for a server started here)');
  const compare = values.compare === true || quick;
  if (compare && load.mode !== 'concurrency') throw new RangeError('--compare measures the baselines at each concurrency: use --concurrency-range, not --request-rate-range');
  if (compare && values.url !== undefined && values['model-file'] === undefined) {
    throw new RangeError('--compare against a running server (--url) needs --model-file for the naive server and the ceiling');
  }
  if (values.plot !== undefined && !values.plot.endsWith('.svg')) throw new RangeError(`--plot must name an .svg file (got '${values.plot}')`);
  for (const flag of ['server-cpus', 'client-cpus'] as const) {
    const list = values[flag];
    if (list !== undefined && !/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(list)) throw new RangeError(`--${flag} must be a CPU list such as 1 or 0,2-3 (got '${list}')`);
  }
  if (values['model-repository'] !== undefined && values.model === undefined) throw new RangeError('--model-repository needs -m/--model to name the model');
  if (values.url !== undefined && values.model === undefined) throw new RangeError('--url needs -m/--model to name the model');
  return Object.freeze({
    url: values.url?.replace(/\/$/, '') ?? null,
    grpcUrl: values['grpc-url'] ?? null,
    modelRepository: values['model-repository'] ?? null,
    benchModel,
    model: values.model ?? BENCH_MODEL_NAMES[benchModel],
    modelVersion: values['model-version'] ?? null,
    modelFile: values['model-file'] ?? null,
    protocols: Object.freeze(values.protocol !== undefined ? protocolList(values.protocol) : quick ? [...QUICK.protocols] : ['http-binary' as const]),
    load: Object.freeze({ mode: load.mode, values: Object.freeze(load.values) }),
    requestDistribution: distribution,
    measurementIntervalMs: number('measurement-interval', values['measurement-interval'], quick ? QUICK.measurementIntervalMs : DEFAULTS.measurementIntervalMs, 'positive integer'),
    warmupMs: number('warmup', values.warmup, quick ? QUICK.warmupMs : DEFAULTS.warmupMs, 'non-negative integer'),
    stabilityPercentage,
    maxTrials: number('max-trials', values['max-trials'], quick ? QUICK.maxTrials : DEFAULTS.maxTrials, 'positive integer'),
    percentile: percentileValue,
    batchSize: number('batch-size', values['batch-size'], DEFAULTS.batchSize, 'positive integer'),
    inputData: Object.freeze(inputData),
    shapes: Object.freeze(shapes),
    outputSharedMemorySize: number('output-shared-memory-size', values['output-shared-memory-size'], DEFAULTS.outputSharedMemorySize, 'positive integer'),
    compare,
    baselineThreads: number('baseline-threads', values['baseline-threads'], DEFAULTS.baselineThreads, 'positive integer'),
    quick,
    json: values.json ?? null,
    csv: values.csv ?? null,
    plot: values.plot ?? (compare ? DEFAULT_PLOT : null),
    serverCpus: values['server-cpus'] ?? null,
    clientCpus: values['client-cpus'] ?? null,
    help: values.help === true,
  });
}
