/**
 * Starts and stops the server: load every model in the repositories, open the front-ends, and
 * on close stop accepting, let in-flight requests finish within the exit timeout, stop workers.
 */
import os from 'node:os';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../api/api-context.ts';
import { startGrpcServer, type GrpcFrontEnd } from '../api/grpc-server.ts';
import { buildHttpServer } from '../api/http-server.ts';
import type { ServerOptions } from './cli-options.ts';
import { discoverGpus } from './device-discovery.ts';
import { instanceCount, prepareModel, startModel } from './model-lifecycle.ts';
import { ModelRegistry } from './model-registry.ts';
import { scanRepositories } from './model-repository.ts';
import { ClientRegions, CudaRegions } from '../shm/index.ts';
import { cudaProviderPresent } from './cuda-provider.ts';

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
  /** Stops accepting, waits for in-flight work (up to the exit timeout), stops the workers. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** fastify/pino log level; defaults from --log-verbose. */
  readonly logLevel?: string;
  /** Called with each line worth telling an operator (model load results, ports). */
  readonly announce?: (line: string) => void;
}

export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export async function startServer(options: ServerOptions, start: StartOptions = {}): Promise<RunningServer> {
  const announce = start.announce ?? (() => {});
  const registry = new ModelRegistry();
  const gpus = options.gpus ? [...options.gpus] : (await discoverGpus()).map((g) => g.id);
  const { models, duplicates } = await scanRepositories(options.modelRepositories);
  for (const [name, dirs] of duplicates) {
    registry.set({ name, dir: dirs[0], config: null, reason: `model '${name}' appears in more than one repository: ${dirs.join(', ')}`, versions: new Map() });
  }
  const loadOptions = {
    autocomplete: !options.strictModelConfig && !options.disableAutoCompleteConfig,
    requireConfigFile: options.strictModelConfig,
    gpus,
  };
  const prepared = await Promise.all(models.map((m) => prepareModel(m.name, m.dir, loadOptions)));
  // Share the cores among every instance of every model, so that instances times runtime
  // threads never exceed them (oversubscribed runtime threads are a common Triton pitfall).
  const instances = prepared.reduce((n, m) => n + instanceCount(m), 0);
  const threadsPerInstance = Math.max(1, Math.floor(os.availableParallelism() / Math.max(1, instances)));
  const loaded = await Promise.all(prepared.map((m) => startModel(m, threadsPerInstance)));
  for (const model of loaded) {
    registry.set(model);
    if (!model.config) announce(`model '${model.name}' failed to load: ${model.reason}`);
    for (const v of model.versions.values()) {
      announce(v.state === 'READY' ? `model '${model.name}' version ${v.version}: READY` : `model '${model.name}' version ${v.version}: ${v.state}: ${v.reason}`);
    }
  }

  const clientRegions = new ClientRegions({ allowed: options.allowClientShm, maxTotalBytes: options.clientShmMaxBytes });
  const cudaRegions = new CudaRegions({ allowed: options.allowClientShm, providerPresent: cudaProviderPresent });
  let closing = false;
  const ctx: ApiContext = {
    registry,
    version: VERSION,
    maxInputSizeBytes: options.httpMaxInputSizeBytes,
    maxJsonDepth: options.httpMaxJsonDepth,
    clientRegions,
    cudaRegions,
    isLive: () => !closing,
    isReady: () => !closing && registry.allReady(),
  };
  let http: FastifyInstance | null = null;
  let httpPort: number | null = null;
  if (options.allowHttp) {
    http = await buildHttpServer(ctx, { logLevel: start.logLevel ?? (options.logVerbose > 0 ? 'debug' : 'info') });
    await http.listen({ host: options.httpAddress, port: options.httpPort });
    httpPort = (http.server.address() as { port: number }).port;
    announce(`HTTP: listening on ${options.httpAddress}:${httpPort}`);
  }
  let grpc: GrpcFrontEnd | null = null;
  if (options.grpc.allow) {
    try {
      grpc = await startGrpcServer(ctx, { ...options.grpc, port: options.grpcPort }, { announce, logErrors: start.logLevel !== 'silent' });
    } catch (err) {
      await http?.close();
      await registry.stopAll();
      throw err;
    }
  }

  const close = async (): Promise<void> => {
    if (closing) return;
    closing = true;
    const drain = (async () => {
      // fastify's close stops accepting, answers 503 meanwhile, and waits for open requests;
      // the gRPC server's drain stops accepting calls and waits for those in flight.
      await Promise.all([http?.close(), grpc?.drain()]);
      await registry.stopAll();
      // Drops every registration; a descriptor closes now, or when its last lease ends.
      clientRegions.close();
    })();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, options.exitTimeoutSecs * 1000);
      timer.unref();
    });
    await Promise.race([drain, timeout]);
    clearTimeout(timer);
    // Past the exit timeout, cut what is still open (a stream a client never ends, say).
    grpc?.forceClose();
  };
  return { registry, clientRegions, httpPort, http, grpcPort: grpc?.port ?? null, grpc, close };
}
