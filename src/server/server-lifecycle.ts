/**
 * Starts and stops the server: load every model in the repositories, open the front-ends (and
 * the metrics endpoint), and on close stop accepting, let in-flight requests finish within the
 * exit timeout, stop workers, then close metrics and the trace file.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../api/index.ts';
import { startGrpcServer, type GrpcFrontEnd } from '../api/index.ts';
import { beginHttpClose, buildHttpServer } from '../api/index.ts';
import { serverError } from '../errors.ts';
import { createMetricsRegistry, startMetricsServer, type MetricsRegistry, type MetricsServer } from '../api/index.ts';
import type { ServerOptions } from '../cli/index.ts';
import { discoverGpus } from '../instance/index.ts';
import { LogSettings } from '../observability/index.ts';
import { createLogger, logDestination, type Logger } from '../observability/index.ts';
import { listenToWorkerLogs } from './worker-logs.ts';
import { ModelManager, type VersionHooks } from '../repository/index.ts';
import { modelCaller } from './model-calls.ts';
import { ModelRegistry } from '../repository/index.ts';
import { ClientRegions, CudaRegions } from '../shm/index.ts';
import { autoKindNotice } from '../model-config/index.ts';
import { cudaProviderPresent } from '../instance/index.ts';
import { SystemMonitor } from '../observability/index.ts';
import { TraceManager } from '../observability/index.ts';
import { ResponseCache } from '../scheduler/index.ts';

export interface RunningServer {
  readonly registry: ModelRegistry;
  /** The client shared-memory regions registered with this server. */
  readonly clientRegions: ClientRegions;
  /** The port HTTP listens on (the chosen one when 0 was asked), or null when HTTP is off. */
  readonly httpPort: number | null;
  readonly http: FastifyInstance | null;
  /** The port gRPC listens on (the chosen one when 0 was asked), or null when gRPC is off. */
  readonly grpcPort: number | null;
  readonly grpc: GrpcFrontEnd | null;
  /** The port metrics are served on, or null with --allow-metrics=false. */
  readonly metricsPort: number | null;
  /** The structured logger every front-end logs through. */
  readonly logger: Logger;
  /** Logging settings (the logging extension; gRPC LogSettings can use them too). */
  readonly logSettings: LogSettings;
  /** Trace settings and sampling (the trace extension; gRPC TraceSetting can use them too). */
  readonly tracing: TraceManager;
  /** Stops accepting, waits for in-flight work (up to the exit timeout), stops the workers. */
  close(): Promise<void>;
}

interface StartOptions {
  /** 'silent' discards log lines unless --log-file names a file (tests); levels come from the --log-* flags. */
  readonly logLevel?: string;
  /**
   * Called with each line worth telling an operator (model load results, ports), besides the
   * line the logger writes.
   */
  readonly announce?: (line: string) => void;
  /** The logger and its settings, when the caller made them already (createServerLogger); else made here. */
  readonly log?: ServerLog;
  /**
   * Reject, with every started model stopped and no front-end opened, when a model fails to
   * load (Triton's --exit-on-error; the command passes `options.exitOnError`). Off by default,
   * so code that starts a server can look at the failures itself.
   */
  readonly failOnModelError?: boolean;
}

/** The server's logger and the settings it follows. */
export interface ServerLog {
  readonly logger: Logger;
  readonly settings: LogSettings;
}

/**
 * Makes the logger every line of the server goes through, from the --log-* flags: to
 * --log-file or stdout (discarded with `silent` unless there is a file). Throws, naming the flag,
 * when the file cannot be opened.
 */
export function createServerLog(options: ServerOptions, silent = false): ServerLog {
  const settings = new LogSettings(options.log, options.logVerbose);
  return { logger: createLogger(settings, logDestination(settings, silent)), settings };
}

export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export async function startServer(options: ServerOptions, start: StartOptions = {}): Promise<RunningServer> {
  const { logger, settings: logSettings } = start.log ?? createServerLog(options, start.logLevel === 'silent');
  const serverLog = logger.child({ component: 'server' });
  const announce = (line: string): void => {
    serverLog.info(line);
    start.announce?.(line);
  };
  // Worker threads post their lines here; they are written through this logger.
  const workerLogs = listenToWorkerLogs(logger.child({ component: 'worker' }), options.logVerbose);
  const registry = new ModelRegistry();
  const tracing = new TraceManager(options.trace, (err) => logger.error({ err }, 'writing the trace file failed'));
  const metrics = options.metrics.allowMetrics ? createMetricsRegistry(registry, options.metrics) : null;
  const responseCache = options.responseCache ? new ResponseCache(options.responseCache.sizeBytes) : null;
  const hooks: VersionHooks = {
    tracer: tracing, latencyObserver: (model, version) => metrics?.latencyObserver(model, version) ?? null, workerLog: workerLogs.setup, responseCache,
    caller: modelCaller(registry),
    models: (name, version) => registry.ready(name, version),
  };
  const gpus = options.gpus ? [...options.gpus] : (await discoverGpus()).map((g) => g.id);
  // The provider is looked for only where there is a GPU to use it on: asking loads the binding.
  const cudaProvider = gpus.length > 0 && await cudaProviderPresent();
  const notice = autoKindNotice({ gpus, cudaProvider });
  if (notice) announce(notice);
  const loadOptions = {
    autocomplete: !options.strictModelConfig && !options.disableAutoCompleteConfig,
    requireConfigFile: options.strictModelConfig,
    gpus,
    cudaProvider,
    defaultMaxBatchSize: options.backendConfig.defaultMaxBatchSize,
    defaultIntraOpThreads: options.backendConfig.intraOpThreads,
    defaultInterOpThreads: options.backendConfig.interOpThreads,
  };
  const manager = new ModelManager(registry, {
    mode: options.modelControlMode,
    repositories: options.modelRepositories,
    load: loadOptions,
    hooks,
    loadThreadCount: options.modelLoadThreadCount,
    pollSecs: options.repositoryPollSecs,
    startupModels: options.loadModels,
    logger,
    budget: options.modelMemoryBudget,
    loadWaitSecs: options.modelLoadWaitSecs,
  });
  // Triton's --exit-on-error: a repository that cannot be read stops the start; without it, the
  // server serves what the other repositories hold.
  const unreadable = await manager.unreadableRepositories();
  if (unreadable.length > 0 && options.exitOnError) throw serverError('BAD_CONFIG', unreadable[0]);
  for (const line of unreadable) announce(line);
  await manager.start();
  for (const model of registry.all()) {
    // The manager logged each state; the caller's announce hears them too.
    if (!model.config) start.announce?.(`model '${model.name}' failed to load: ${model.reason}`);
    for (const v of model.versions.values()) {
      start.announce?.(v.state === 'READY' ? `model '${model.name}' version ${v.version}: READY` : `model '${model.name}' version ${v.version}: ${v.state}: ${v.reason}`);
    }
  }

  if (start.failOnModelError && !registry.allReady()) {
    const failed = registry.all().filter((m) => m.config === null || [...m.versions.values()].some((v) => v.state !== 'READY')).length;
    await manager.close();
    await registry.stopAll();
    metrics?.close();
    await tracing.close();
    workerLogs.close();
    throw serverError('BAD_CONFIG', `failed to load all models (${failed} of ${registry.all().length} failed; --exit-on-error=false serves the others)`);
  }

  const clientRegions = new ClientRegions({ allowed: options.allowClientShm, maxTotalBytes: options.clientShmMaxBytes });
  const cudaRegions = new CudaRegions({ allowed: options.allowClientShm, providerPresent: cudaProviderPresent });
  let closing = false;
  const ctx: ApiContext = {
    registry,
    models: manager,
    version: VERSION,
    serverId: options.serverId,
    maxInputSizeBytes: options.httpMaxInputSizeBytes,
    maxJsonDepth: options.httpMaxJsonDepth,
    limits: { maxElements: options.maxRequestElements, maxMemoryBytes: options.maxRequestMemoryBytes },
    clientRegions,
    cudaRegions,
    isLive: () => !closing,
    isClosing: () => closing,
    // --strict-readiness (Triton's default): ready only when every model is; without it, ready
    // whenever the server answers.
    isReady: () => !closing && (!options.strictReadiness || registry.allReady()),
    logSettings,
    tracing,
  };
  let http: FastifyInstance | null = null;
  let httpPort: number | null = null;
  if (options.allowHttp) {
    http = await buildHttpServer(ctx, { logger: logger.child({ component: 'http' }), restrictions: options.httpRestrictedApis });
    try {
      await http.listen({ host: options.httpAddress, port: options.httpPort });
    } catch (err) {
      await http.close();
      await manager.close();
      await registry.stopAll();
      workerLogs.close();
      throw portError(err, 'HTTP service', options.httpAddress, options.httpPort);
    }
    httpPort = (http.server.address() as { port: number }).port;
    announce(`HTTP: listening on ${options.httpAddress}:${httpPort}`);
  }
  let grpc: GrpcFrontEnd | null = null;
  if (options.grpc.allow) {
    try {
      grpc = await startGrpcServer(ctx, { ...options.grpc, port: options.grpcPort, restrictions: options.grpcRestrictedProtocols }, { announce, logger: logger.child({ component: 'grpc' }) });
    } catch (err) {
      await http?.close();
      await manager.close();
      await registry.stopAll();
      workerLogs.close();
      throw portError(err, 'GRPC service', options.grpc.address, options.grpcPort);
    }
  }
  // Metrics start last, as in Triton, so a front-end that fails to start leaves nothing of them
  // running; if they fail, what started before them is closed.
  let monitor: SystemMonitor | null = null;
  let metricsServer: MetricsServer | null = null;
  if (metrics) {
    try {
      ({ monitor, metricsServer } = await startMetrics(metrics, options, gpus));
    } catch (err) {
      metrics.close();
      grpc?.forceClose();
      await http?.close();
      await manager.close();
      await registry.stopAll();
      workerLogs.close();
      throw portError(err, 'metrics service', metricsAddress(options), options.metricsPort);
    }
    announce(`Started Metrics Service at ${metricsAddress(options)}:${metricsServer.port}`);
  }
  if (httpPort !== null) announce(`Started HTTPService at ${options.httpAddress}:${httpPort}`);
  if (grpc !== null) announce(`Started GRPCInferenceService at ${grpc.endpoint}`);

  const close = async (): Promise<void> => {
    if (closing) return;
    closing = true;
    const deadline = Date.now() + options.exitTimeoutSecs * 1000;
    // 1. Stop taking connections; serve what arrives on those already open. HTTP stops
    //    listening, and every answer from now on says Connection: close (so each client sends at
    //    most one more request there, then reconnects elsewhere); gRPC sends GOAWAY, and open
    //    streams are still served (as Triton takes inference while exiting, so that a sequence
    //    can complete). This lasts until no request is in flight and no stream is open, or
    //    --exit-timeout-secs.
    const httpClosing = http ? beginHttpClose(http) : null;
    const grpcClosed = grpc?.drain() ?? Promise.resolve();
    const quiet = async () => {
      while (registry.inflight() > 0 || (grpc?.openStreams ?? 0) > 0) {
        await Promise.all([registry.idle(), grpc?.streamsClosed()]);
      }
    };
    let exitTimer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      quiet().then(() => false),
      new Promise<boolean>((resolve) => { exitTimer = setTimeout(() => resolve(true), options.exitTimeoutSecs * 1000); }),
    ]);
    clearTimeout(exitTimer);
    // 2. Refuse what still arrives (503 / UNAVAILABLE "Server is shutting down"). Past the exit
    //    timeout, requests still queued are answered 503 / UNAVAILABLE too. A batch already at
    //    an instance runs to its end: onnxruntime cannot interrupt a native run, and stopping
    //    its thread mid-run aborts the process (exit 134), answering nobody. Once nothing is in
    //    flight, every session is unloaded and the worker threads stop.
    // No more loads, unloads or polls; a load under way finishes first.
    await manager.close();
    const stopped = registry.stopAll();
    if (timedOut) registry.failQueued(serverError('EXIT_TIMEOUT', options.exitTimeoutSecs));
    await stopped;
    // 3. Every answer is given: close the connections. Streams a client keeps open end with
    //    UNAVAILABLE; idle HTTP connections close. A connection still open after the exit
    //    timeout plus a second for the last answers to flush is cut.
    grpc?.endStreams();
    const frontEnds = Promise.all([httpClosing?.finish(), grpcClosed]);
    let forceTimer: NodeJS.Timeout | undefined;
    const forced = new Promise<void>((resolve) => {
      forceTimer = setTimeout(resolve, Math.max(deadline - Date.now(), 0) + kFlushGraceMs);
    });
    await Promise.race([frontEnds, forced]);
    clearTimeout(forceTimer);
    httpClosing?.force();
    grpc?.forceClose();
    // Drops every registration; a descriptor closes now, or when its last lease ends.
    clientRegions.close();
    monitor?.stop();
    metrics?.close();
    await metricsServer?.close();
    await tracing.close();
    workerLogs.close();
    logger.flush();
  };
  return { registry, clientRegions, httpPort, http, grpcPort: grpc?.port ?? null, grpc, metricsPort: metricsServer?.port ?? null, logger, logSettings, tracing, close };
}

/** After the exit timeout, how long the last answers get to reach their clients before connections are cut. */
const kFlushGraceMs = 1000;

/**
 * A port already taken, said as Triton says it: which service, which port. Other errors pass
 * through. (grpc-js reports it only inside its message, without a code.)
 */
function portError(err: unknown, service: string, address: string, port: number): unknown {
  const e = err as NodeJS.ErrnoException;
  if (e?.code !== 'EADDRINUSE' && !/EADDRINUSE|address already in use/i.test(String(e?.message))) return err;
  return Object.assign(new Error(`failed to start ${service}: port ${port} on ${address} is already in use`), { code: 'EADDRINUSE' });
}

/** Triton's default: the HTTP address when HTTP is served, else every interface. */
function metricsAddress(options: ServerOptions): string {
  return options.metrics.metricsAddress ?? (options.allowHttp ? options.httpAddress : '0.0.0.0');
}

/** The CPU/GPU monitor (when either gauge set is on) and the metrics endpoint. */
async function startMetrics(metrics: MetricsRegistry, options: ServerOptions, gpus: readonly number[]): Promise<{ monitor: SystemMonitor | null; metricsServer: MetricsServer }> {
  const m = options.metrics;
  const gpuIds = m.allowGpuMetrics ? gpus : [];
  let monitor: SystemMonitor | null = null;
  if (m.allowCpuMetrics || gpuIds.length > 0) {
    monitor = await SystemMonitor.start({ cpu: m.allowCpuMetrics, gpus: gpuIds, intervalMs: m.metricsIntervalMs });
    metrics.addSystemGauges(monitor, { cpu: m.allowCpuMetrics, gpu: gpuIds.length > 0 });
  }
  try {
    return { monitor, metricsServer: await startMetricsServer(metrics.prom, metricsAddress(options), options.metricsPort) };
  } catch (err) {
    monitor?.stop();
    throw err;
  }
}
