/**
 * Command-line flags, with Triton's names and defaults, parsed and checked once into a frozen
 * object. A bad flag is a TypeError/RangeError whose message names the flag.
 */
import { parseArgs } from 'node:util';
import { bool, integer, oneOf, port } from './flag-values.ts';
import { DEFAULT_GRPC_OPTIONS, GRPC_BOOLEAN_FLAGS, GRPC_FLAG_SPEC, GRPC_USAGE, parseGrpcOptions, type GrpcOptions } from './grpc-cli-options.ts';
import {
  DEFAULT_LOG_OPTIONS, DEFAULT_METRICS_OPTIONS, OBSERVABILITY_BOOLEAN_FLAGS, OBSERVABILITY_SPEC, OBSERVABILITY_USAGE,
  parseObservabilityOptions, type LogOptions, type MetricsOptions,
} from './observability-options.ts';
import { DEFAULT_TRACE_SETTING, type TraceSetting } from './trace-settings.ts';
import { DEFAULT_BACKEND_CONFIG, parseBackendConfig, takeTritonFlagsWithoutEffect, type BackendConfig } from './triton-flags.ts';
import { CACHE_SPEC, CACHE_USAGE, parseCacheOptions, type CacheOptions } from './cache-options.ts';
import { GRPC_RESTRICTED_HEADER_PREFIX, parseRestrictions, type Restrictions } from './restricted-options.ts';

export interface ServerOptions {
  readonly modelRepositories: readonly string[];
  readonly httpAddress: string;
  readonly httpPort: number;
  readonly grpcPort: number;
  readonly metricsPort: number;
  readonly allowHttp: boolean;
  readonly strictModelConfig: boolean;
  readonly disableAutoCompleteConfig: boolean;
  readonly logVerbose: number;
  readonly exitTimeoutSecs: number;
  /** Largest HTTP request body, after decompression, in bytes. */
  readonly httpMaxInputSizeBytes: number;
  /** Largest nesting of a JSON request body. */
  readonly httpMaxJsonDepth: number;
  /** Most elements over all of one inference request's inputs (docs/limits.md). */
  readonly maxRequestElements: number;
  /** Most bytes one inference request's decoded inputs may take (docs/limits.md). */
  readonly maxRequestMemoryBytes: number;
  /** GPU ids to use instead of the ones discovered; null: discover them. */
  readonly gpus: readonly number[] | null;
  /** The gRPC front-end's flags other than its port (grpc-cli-options.ts). */
  readonly grpc: GrpcOptions;
  /** Whether clients may register shared-memory regions and infer through them. */
  readonly allowClientShm: boolean;
  /** Largest total byte_size of all registered system shared-memory regions. */
  readonly clientShmMaxBytes: number;
  /** --allow-metrics, --metrics-*, --allow-{gpu,cpu}-metrics. */
  readonly metrics: MetricsOptions;
  /** --log-info, --log-warning, --log-error, --log-format, --log-file (--log-verbose is above). */
  readonly log: LogOptions;
  /** --trace-config. */
  readonly trace: TraceSetting;
  /** --exit-on-error: a start-up error (a repository that cannot be read, a model that fails to load) stops the command. */
  readonly exitOnError: boolean;
  /** --strict-readiness: the server is ready only when every model is (false: when it answers). */
  readonly strictReadiness: boolean;
  /** --model-load-thread-count: how many models load at the same time. */
  readonly modelLoadThreadCount: number;
  /** --model-control-mode: none (load all at start), poll (follow the repository), explicit (load/unload requests). */
  readonly modelControlMode: ModelControlMode;
  /** --load-model (explicit mode only): the models loaded at start-up; '*' means every model. */
  readonly loadModels: readonly string[];
  /** --repository-poll-secs: seconds between two scans of the repositories in poll mode. */
  readonly repositoryPollSecs: number;
  /** --model-memory-budget (Nereid's own, explicit mode): models load on demand and idle ones are evicted to stay within it; null: off. */
  readonly modelMemoryBudget: ModelBudget | null;
  /** --model-load-wait-secs: how long a request waits for its model to load on demand. */
  readonly modelLoadWaitSecs: number;
  /** --id: the server's name in its metadata (GET /v2, gRPC ServerMetadata). */
  readonly serverId: string;
  /** --backend-config. */
  readonly backendConfig: BackendConfig;
  /** --cache-config (cache-options.ts); null: no response cache. */
  readonly responseCache: CacheOptions | null;
  /** --http-restricted-api: the HTTP API groups that need a header (restricted-options.ts). */
  readonly httpRestrictedApis: Restrictions;
  /** --grpc-restricted-protocol: the gRPC protocol groups that need a metadata key. */
  readonly grpcRestrictedProtocols: Restrictions;
}

/** A budget in estimated bytes of the loaded models, or in a number of models. */
export interface ModelBudget {
  readonly unit: 'bytes' | 'models';
  readonly limit: number;
}

/** Triton's three model control modes. */
export type ModelControlMode = 'none' | 'poll' | 'explicit';
const kControlModes: readonly ModelControlMode[] = ['none', 'poll', 'explicit'];

/** Defaults, as Triton's where Triton has the flag. */
export const DEFAULT_OPTIONS: ServerOptions = Object.freeze({
  modelRepositories: ['./model_repository'],
  httpAddress: '0.0.0.0',
  httpPort: 8000,
  grpcPort: 8001,
  metricsPort: 8002,
  allowHttp: true,
  strictModelConfig: false,
  disableAutoCompleteConfig: false,
  logVerbose: 0,
  exitTimeoutSecs: 30,
  httpMaxInputSizeBytes: 64 * 1024 * 1024, // 64 MiB, Triton's default
  httpMaxJsonDepth: 100,
  // Nereid's own budgets (Triton has no such flags): what a 2-core machine with a few GiB
  // survives with several such requests at once. A BYTES element counts 256 bytes besides its
  // length (request-budget.ts), so the memory budget allows at most 1M BYTES elements a request.
  maxRequestElements: 16 * 1024 * 1024, // 16,777,216 elements: a 64 MiB tensor of FP32
  maxRequestMemoryBytes: 256 * 1024 * 1024, // 256 MiB
  gpus: null,
  grpc: DEFAULT_GRPC_OPTIONS,
  allowClientShm: false, // off unless asked for, as in Triton
  clientShmMaxBytes: 16 * 1024 ** 3, // 16 GiB: the regions are the clients' memory, read and written in place
  metrics: DEFAULT_METRICS_OPTIONS,
  log: DEFAULT_LOG_OPTIONS,
  trace: DEFAULT_TRACE_SETTING,
  exitOnError: true, // Triton's default
  strictReadiness: true, // Triton's default
  modelLoadThreadCount: 4, // Triton's default
  modelControlMode: 'none', // Triton's default
  loadModels: [],
  repositoryPollSecs: 15, // Triton's default, in seconds
  modelMemoryBudget: null,
  modelLoadWaitSecs: 60,
  serverId: 'nereid',
  backendConfig: DEFAULT_BACKEND_CONFIG,
  responseCache: null,
  httpRestrictedApis: new Map(),
  grpcRestrictedProtocols: new Map(),
});

const booleanFlags = ['exit-on-error', 'strict-readiness', 'strict-model-config', 'disable-auto-complete-config', 'allow-http', 'allow-client-shm', ...GRPC_BOOLEAN_FLAGS, ...OBSERVABILITY_BOOLEAN_FLAGS] as const;

const spec = {
  'model-repository': { type: 'string', multiple: true },
  'model-store': { type: 'string', multiple: true },
  'http-address': { type: 'string' },
  'http-port': { type: 'string' },
  'grpc-port': { type: 'string' },
  'metrics-port': { type: 'string' },
  'allow-http': { type: 'string' },
  'strict-model-config': { type: 'string' },
  'disable-auto-complete-config': { type: 'string' },
  'log-verbose': { type: 'string' },
  'exit-timeout-secs': { type: 'string' },
  'http-max-input-size': { type: 'string' },
  'max-request-elements': { type: 'string' },
  'max-request-memory': { type: 'string' },
  gpus: { type: 'string' },
  ...GRPC_FLAG_SPEC,
  'allow-client-shm': { type: 'string' },
  'client-shm-max-bytes': { type: 'string' },
  ...OBSERVABILITY_SPEC,
  'exit-on-error': { type: 'string' },
  'strict-readiness': { type: 'string' },
  'model-load-thread-count': { type: 'string' },
  'model-control-mode': { type: 'string' },
  'load-model': { type: 'string', multiple: true },
  'repository-poll-secs': { type: 'string' },
  'model-memory-budget': { type: 'string' },
  'model-load-wait-secs': { type: 'string' },
  id: { type: 'string' },
  'backend-config': { type: 'string', multiple: true },
  ...CACHE_SPEC,
  'http-restricted-api': { type: 'string', multiple: true },
  'grpc-restricted-protocol': { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

export const USAGE = `Usage: nereid [options]

  --model-repository=DIR        a model repository (repeatable; default ./model_repository)
  --exit-on-error=BOOL          stop when a repository cannot be read or a model fails to load
                                at start-up (default true; false serves what did load)
  --strict-readiness=BOOL       ready only when every model is ready (default true; false:
                                ready whenever the server answers)
  --model-load-thread-count=N   models loaded at the same time (default 4)
  --model-control-mode=MODE     none (load every model at start-up), poll (follow changes in
                                the repositories), explicit (load/unload requests; default none)
  --load-model=NAME             with explicit mode, a model to load at start-up (repeatable;
                                '*' loads every model)
  --repository-poll-secs=N      seconds between two scans of the repositories in poll mode
                                (default 15)
  --model-memory-budget=BYTES   with explicit mode: a request for a model that is not loaded
                                loads it, and the least recently used idle models are unloaded
                                to keep the loaded ones within BYTES (estimated), or within a
                                number of models with Nmodels (e.g. 3models); default off
  --model-load-wait-secs=N      how long a request waits for an on-demand load (default 60)
  --id=NAME                     the server's name in its metadata (default nereid)
  --backend-config=B,K=V        onnxruntime,intra_op_thread_count=N, onnxruntime,
                                inter_op_thread_count=N (defaults where a config sets none),
                                default-max-batch-size=N (auto-complete's, default 4)
  --http-address=ADDR           address the HTTP server listens on (default 0.0.0.0)
  --http-port=N                 HTTP port (default 8000; 0 picks a free port)
  --grpc-port=N                 gRPC port (default 8001; 0 picks a free port)
  --metrics-port=N              metrics port (default 8002; 0 picks a free port)
  --allow-http=BOOL             serve HTTP (default true)
  --strict-model-config=BOOL    require a complete config.pbtxt; no auto-complete (default false)
  --disable-auto-complete-config  do not complete configs from the model files
  --log-verbose=N               verbose logging level; 0 is off (default 0)
  --exit-timeout-secs=N         on SIGTERM/SIGINT, time given to queued requests before they are
                                answered 503 / UNAVAILABLE (default 30; docs/shutdown.md)
  --http-max-input-size=BYTES   largest HTTP request body, after decompression (default 67108864)
  --max-request-elements=N      most elements over all of an inference request's inputs
                                (default 16777216)
  --max-request-memory=BYTES    most memory an inference request's decoded inputs may take; a
                                BYTES element counts 256 bytes besides its length (default 268435456)
  --gpus=IDS                    GPU ids to place KIND_GPU instances on, e.g. 0,1 (default: the
                                NVIDIA GPUs found on this machine; empty: none)
  --allow-client-shm=BOOL       let clients register shared-memory regions and infer through
                                them (default false)
  --client-shm-max-bytes=BYTES  largest total byte_size of the registered system shared-memory
                                regions (default 17179869184, 16 GiB)
  --http-restricted-api=<api-list>:<key>=<value>
                                HTTP requests to these API groups need header <key>: <value>
                                (repeatable; groups: health, metadata, inference, shared-memory,
                                model-config, model-repository, statistics, trace, logging)
  --grpc-restricted-protocol=<protocol-list>:<key>=<value>
                                gRPC calls to these groups need metadata
                                triton-grpc-protocol-<key>: <value> (repeatable; same groups)${CACHE_USAGE}${OBSERVABILITY_USAGE}  -h, --help                    this text
  --version                     print the version and exit
  Triton flags without an effect here (--http-thread-count, --pinned-memory-pool-byte-size,
  ...) are named in one warning and ignored; see docs/install.md.
${GRPC_USAGE}`;

/** What the command itself acts on, beside the server's options. */
export interface CommandFlags {
  readonly help: boolean;
  /** --version: print the package version and exit. */
  readonly version: boolean;
  /** Triton flags without an effect here that argv held (triton-flags.ts), for one warning. */
  readonly tritonFlagsIgnored: readonly string[];
}

/** Parses argv (without node and the script). Throws a TypeError/RangeError naming the flag. */
export function parseCliOptions(argv: readonly string[]): ServerOptions & CommandFlags {
  // Triton's boolean flags take a value (`--flag false` or `--flag=false`); also accept the bare
  // flag, at the end or before another flag, as "true".
  const { args: kept, ignored } = takeTritonFlagsWithoutEffect(argv);
  const args: string[] = [];
  for (let i = 0; i < kept.length; i++) {
    const a = kept[i];
    if (!booleanFlags.some((f) => a === `--${f}`)) {
      args.push(a);
    } else if (i + 1 < kept.length && !kept[i + 1].startsWith('-')) {
      args.push(`${a}=${kept[++i]}`);
    } else {
      args.push(`${a}=true`);
    }
  }
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args, options: spec, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new TypeError(`${(err as Error).message}\n\n${USAGE}`);
  }
  const repos = [...((values['model-repository'] as string[] | undefined) ?? []), ...((values['model-store'] as string[] | undefined) ?? [])];
  if (repos.includes('')) throw new TypeError('--model-repository must not be empty');
  if (values['http-address'] === '') throw new TypeError('--http-address must not be empty');
  if (values.id === '') throw new TypeError('--id must not be empty');
  const modelControlMode = oneOf(values, 'model-control-mode', DEFAULT_OPTIONS.modelControlMode, kControlModes);
  const loadModels = (values['load-model'] as string[] | undefined) ?? [];
  if (loadModels.includes('')) throw new TypeError('--load-model must not be empty');
  // As in Triton, the start-up list is for explicit mode: the other modes load every model.
  if (loadModels.length > 0 && modelControlMode !== 'explicit') throw new TypeError('--load-model can only be used with --model-control-mode=explicit');
  const modelMemoryBudget = budget(values['model-memory-budget'] as string | undefined);
  if (modelMemoryBudget && modelControlMode !== 'explicit') throw new TypeError('--model-memory-budget can only be used with --model-control-mode=explicit');
  return Object.freeze({
    help: Boolean(values.help),
    version: Boolean(values.version),
    tritonFlagsIgnored: Object.freeze(ignored),
    modelRepositories: Object.freeze(repos.length > 0 ? repos : [...DEFAULT_OPTIONS.modelRepositories]),
    httpAddress: (values['http-address'] as string | undefined) ?? DEFAULT_OPTIONS.httpAddress,
    httpPort: port(values, 'http-port', DEFAULT_OPTIONS.httpPort),
    grpcPort: port(values, 'grpc-port', DEFAULT_OPTIONS.grpcPort),
    metricsPort: port(values, 'metrics-port', DEFAULT_OPTIONS.metricsPort),
    allowHttp: bool(values, 'allow-http', DEFAULT_OPTIONS.allowHttp),
    strictModelConfig: bool(values, 'strict-model-config', DEFAULT_OPTIONS.strictModelConfig),
    disableAutoCompleteConfig: bool(values, 'disable-auto-complete-config', DEFAULT_OPTIONS.disableAutoCompleteConfig),
    logVerbose: integer(values, 'log-verbose', DEFAULT_OPTIONS.logVerbose, 0),
    exitTimeoutSecs: integer(values, 'exit-timeout-secs', DEFAULT_OPTIONS.exitTimeoutSecs, 0),
    httpMaxInputSizeBytes: integer(values, 'http-max-input-size', DEFAULT_OPTIONS.httpMaxInputSizeBytes, 1),
    httpMaxJsonDepth: DEFAULT_OPTIONS.httpMaxJsonDepth,
    maxRequestElements: integer(values, 'max-request-elements', DEFAULT_OPTIONS.maxRequestElements, 1),
    maxRequestMemoryBytes: integer(values, 'max-request-memory', DEFAULT_OPTIONS.maxRequestMemoryBytes, 1),
    gpus: gpuList(values.gpus as string | undefined),
    grpc: parseGrpcOptions(values),
    allowClientShm: bool(values, 'allow-client-shm', DEFAULT_OPTIONS.allowClientShm),
    clientShmMaxBytes: integer(values, 'client-shm-max-bytes', DEFAULT_OPTIONS.clientShmMaxBytes, 0),
    ...parseObservabilityOptions(values, bool, integer),
    exitOnError: bool(values, 'exit-on-error', DEFAULT_OPTIONS.exitOnError),
    strictReadiness: bool(values, 'strict-readiness', DEFAULT_OPTIONS.strictReadiness),
    modelLoadThreadCount: integer(values, 'model-load-thread-count', DEFAULT_OPTIONS.modelLoadThreadCount, 1),
    modelControlMode,
    loadModels: Object.freeze([...new Set(loadModels)]),
    repositoryPollSecs: integer(values, 'repository-poll-secs', DEFAULT_OPTIONS.repositoryPollSecs, 1),
    modelMemoryBudget,
    modelLoadWaitSecs: integer(values, 'model-load-wait-secs', DEFAULT_OPTIONS.modelLoadWaitSecs, 1),
    serverId: (values.id as string | undefined) ?? DEFAULT_OPTIONS.serverId,
    backendConfig: parseBackendConfig((values['backend-config'] as string[] | undefined) ?? []),
    responseCache: parseCacheOptions(values),
    httpRestrictedApis: parseRestrictions(values['http-restricted-api'] as string[] | undefined, 'http-restricted-api', 'api', ''),
    grpcRestrictedProtocols: parseRestrictions(values['grpc-restricted-protocol'] as string[] | undefined, 'grpc-restricted-protocol', 'protocol', GRPC_RESTRICTED_HEADER_PREFIX),
  });
}

/** `--model-memory-budget=BYTES` or `=Nmodels`. */
function budget(text: string | undefined): ModelBudget | null {
  if (text === undefined) return null;
  const m = /^([0-9]+)(models?)?$/.exec(text.trim());
  if (!m || !Number.isSafeInteger(Number(m[1])) || Number(m[1]) < 1) {
    throw new TypeError(`--model-memory-budget must be a number of bytes or of models (e.g. 1073741824 or 3models), at least 1 (got '${text}')`);
  }
  return Object.freeze({ unit: m[2] ? 'models' : 'bytes', limit: Number(m[1]) });
}

/** `--gpus=0,2`: GPU ids, comma-separated; `--gpus=` means none (CPU only). */
function gpuList(text: string | undefined): readonly number[] | null {
  if (text === undefined) return null;
  if (text.trim() === '') return Object.freeze([]);
  const ids = text.split(',').map((s) => s.trim());
  if (ids.some((id) => !/^[0-9]+$/.test(id))) throw new TypeError(`--gpus must be GPU ids separated by commas, e.g. 0,1 (got '${text}')`);
  return Object.freeze([...new Set(ids.map(Number))]);
}
