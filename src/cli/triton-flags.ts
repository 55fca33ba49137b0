/**
 * Triton's flags that users pass out of habit (scripts, Helm charts and KServe runtimes written
 * for tritonserver). Those with a meaning here are parsed in cli-options.ts; this file holds the
 * rest: the ones that have no effect on Nereid (named in one warning, then dropped), the ones
 * that would be unsafe to ignore (refused), and `--backend-config`, whose keys are checked one
 * by one. The list follows tritonserver's own flag table (server/src/command_line_parser.cc).
 */

/**
 * Triton flags with no effect here. Each takes a value in Triton (`--flag=value` or `--flag value`).
 * The text says why, for docs/install.md and the warning's reader.
 */
export const TRITON_FLAGS_WITHOUT_EFFECT: Readonly<Record<string, string>> = Object.freeze({
  'http-thread-count': 'HTTP runs on the event loop; model instances have their own threads',
  'reuse-http-port': 'one server per port; run replicas behind a Service instead',
  'reuse-grpc-port': 'one server per port; run replicas behind a Service instead',
  'http-header-forward-pattern': 'headers are not forwarded as request parameters',
  'grpc-header-forward-pattern': 'headers are not forwarded as request parameters',
  'grpc-infer-allocation-pool-size': 'grpc-js allocates its own messages',
  'allow-sagemaker': 'no SageMaker endpoint', 'sagemaker-port': 'no SageMaker endpoint',
  'sagemaker-safe-port-range': 'no SageMaker endpoint', 'sagemaker-thread-count': 'no SageMaker endpoint',
  'allow-vertex-ai': 'no Vertex AI endpoint', 'vertex-ai-port': 'no Vertex AI endpoint',
  'vertex-ai-thread-count': 'no Vertex AI endpoint', 'vertex-ai-default-model': 'no Vertex AI endpoint',
  'rate-limit': 'no rate limiter: a free instance runs the next batch',
  'rate-limit-resource': 'no rate limiter: a free instance runs the next batch',
  'pinned-memory-pool-byte-size': 'tensors stay in host memory rings; no pinned pool',
  'cuda-memory-pool-byte-size': 'onnxruntime manages GPU memory itself',
  'cuda-virtual-address-size': 'onnxruntime manages GPU memory itself',
  'min-supported-compute-capability': 'onnxruntime decides which GPUs it can use',
  'buffer-manager-thread-count': 'no buffer manager threads',
  'backend-directory': 'the onnxruntime backend is built in',
  'repoagent-directory': 'no repository agents',
  'cache-directory': "the response cache is built in ('local' only)",
  'host-policy': 'no host policies',
  'model-load-gpu-limit': 'GPU memory is not budgeted at load',
  'model-load-retry-count': 'a model that fails to load is not retried',
  'model-namespacing': 'a model name must be unique across repositories',
});

/**
 * Triton flags refused with the reason: Triton's older trace flags (ignoring one would leave its
 * user without the traces asked for; --trace-config says the same). The access-control flags
 * are served (restricted-options.ts).
 */
const REFUSED: Readonly<Record<string, string>> = Object.freeze({
  'trace-file': "it is Triton's older trace flag; use --trace-config triton,file=PATH",
  'trace-level': "it is Triton's older trace flag; use --trace-config level=OFF|TIMESTAMPS|TENSORS",
  'trace-rate': "it is Triton's older trace flag; use --trace-config rate=N",
  'trace-count': "it is Triton's older trace flag; use --trace-config count=N",
  'trace-log-frequency': "it is Triton's older trace flag; use --trace-config triton,log-frequency=N",
});

/**
 * Takes Triton's flags without effect out of argv (with their values) and returns the rest and
 * the flags taken, in order, each once. A refused flag throws a TypeError that says why.
 */
export function takeTritonFlagsWithoutEffect(argv: readonly string[]): { args: string[]; ignored: string[] } {
  const args: string[] = [];
  const ignored: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const name = /^--([a-z0-9-]+)(=|$)/.exec(a)?.[1];
    if (name !== undefined && name in REFUSED) throw new TypeError(`--${name} is not supported: ${REFUSED[name]}`);
    if (name === undefined || !(name in TRITON_FLAGS_WITHOUT_EFFECT)) {
      args.push(a);
      continue;
    }
    // `--flag value`: the value goes too (Triton's flags all take one).
    if (!a.includes('=') && i + 1 < argv.length && !argv[i + 1].startsWith('--')) i++;
    if (!ignored.includes(`--${name}`)) ignored.push(`--${name}`);
  }
  return { args, ignored };
}

/** The one warning line for the flags `takeTritonFlagsWithoutEffect` took; null when none. */
export function ignoredFlagsWarning(ignored: readonly string[]): string | null {
  if (ignored.length === 0) return null;
  return `warning: ignoring Triton flag${ignored.length > 1 ? 's' : ''} without an effect in Nereid: ${ignored.join(', ')} (docs/install.md lists why)`;
}

/** What `--backend-config` sets here. Null: not given. */
export interface BackendConfig {
  /** `default-max-batch-size=N`: max_batch_size auto-complete gives a model that can batch (Triton's default 4). */
  readonly defaultMaxBatchSize: number | null;
  /** `onnxruntime,intra_op_thread_count=N`: a model's intra-op threads where its config sets none. */
  readonly intraOpThreads: number | null;
  /** `onnxruntime,inter_op_thread_count=N`: a model's inter-op threads where its config sets none. */
  readonly interOpThreads: number | null;
}

export const DEFAULT_BACKEND_CONFIG: BackendConfig = Object.freeze({ defaultMaxBatchSize: null, intraOpThreads: null, interOpThreads: null });

const ONNXRUNTIME_KEYS: Readonly<Record<string, keyof BackendConfig>> = Object.freeze({
  intra_op_thread_count: 'intraOpThreads',
  inter_op_thread_count: 'interOpThreads',
});

/**
 * Parses every `--backend-config` value: `<backend>,<key>=<value>` or, for all backends,
 * `<key>=<value>`, as Triton writes them. Unknown backends and keys are refused, naming the ones
 * that have a meaning here.
 */
export function parseBackendConfig(values: readonly string[]): BackendConfig {
  const out: { -readonly [K in keyof BackendConfig]: BackendConfig[K] } = { ...DEFAULT_BACKEND_CONFIG };
  for (const value of values) {
    const m = /^(?:([^,=]+),)?([^,=]+)=(.*)$/.exec(value);
    if (!m) throw new TypeError(`--backend-config must be <backend>,<setting>=<value> or <setting>=<value> (got '${value}')`);
    const [, backend, key, text] = m;
    let field: keyof BackendConfig;
    if (backend === undefined) {
      if (key !== 'default-max-batch-size') {
        throw new TypeError(`--backend-config: '${key}' has no meaning here; the settings for all backends are: default-max-batch-size`);
      }
      field = 'defaultMaxBatchSize';
    } else if (backend === 'onnxruntime') {
      if (!(key in ONNXRUNTIME_KEYS)) {
        throw new TypeError(`--backend-config: onnxruntime setting '${key}' has no meaning here; the onnxruntime settings are: ${Object.keys(ONNXRUNTIME_KEYS).join(', ')}`);
      }
      field = ONNXRUNTIME_KEYS[key];
    } else {
      throw new TypeError(`--backend-config: backend '${backend}' is not served here; Nereid's backend is onnxruntime`);
    }
    const n = Number(text);
    const min = field === 'defaultMaxBatchSize' ? 0 : 1;
    if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(n) || n < min) {
      throw new TypeError(`--backend-config: ${backend ? `${backend},` : ''}${key} must be an integer of at least ${min} (got '${text}')`);
    }
    out[field] = n;
  }
  return Object.freeze(out);
}
