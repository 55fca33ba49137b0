/**
 * Builds and starts the gRPC front-end: Triton's GRPCInferenceService, the standard health
 * service (grpc.health.v1, for Kubernetes probes) and server reflection, on one grpc-js server
 * with the TLS, message size and keepalive settings of the command line.
 */
import { readFile } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import { GrpcCode, serverError } from '../../errors.ts';
import { unenforcedGrpcFlags, type GrpcOptions, type Restrictions } from '../../cli/index.ts';
import type { Logger } from '../../observability/index.ts';
import type { ApiContext } from '../shared/api-context.ts';
import { admits, checkRestricted, GRPC_METHOD_GROUPS } from '../shared/api-groups.ts';
import { grpcErrorReply } from '../shared/error-reply.ts';
import { grpcInferHandlers, maxMessageValues, modelInferOnBytes, OpenStreams, type InternalErrorLog } from './grpc-infer-service.ts';
import { grpcModelHandlers } from './grpc-model-service.ts';
import { routeUnaryDirectly, type DirectRoute } from './grpc-unary-direct.ts';
import { healthPackageDefinition, inferencePackageDefinition, inferenceServerDefinition, INFERENCE_SERVICE } from '../../protocol/index.ts';

interface GrpcServerSettings extends GrpcOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** --grpc-restricted-protocol: groups whose methods need a metadata key (none: all open). */
  readonly restrictions?: Restrictions;
}

export interface GrpcFrontEnd {
  /** The port listened on (the chosen one when 0 was asked). */
  readonly port: number;
  /** "ADDRESS:PORT", as the start-up line prints it. */
  readonly endpoint: string;
  /** ModelInfer's direct route (grpc-unary-direct.ts), or null where this grpc-js release hides its HTTP/2 servers. */
  readonly modelInferDirect: DirectRoute | null;
  /** Re-reads the server's readiness for the health service now (it also does once a second). */
  refreshHealth(): void;
  /**
   * Stops taking connections and new calls (GOAWAY; health turns NOT_SERVING); resolves once
   * every connection has closed. Calls in flight go on.
   */
  drain(): Promise<void>;
  /** ModelStreamInfer streams open now. */
  readonly openStreams: number;
  /** Resolves the next time no ModelStreamInfer stream is open. */
  streamsClosed(): Promise<void>;
  /** Ends every open ModelStreamInfer stream with UNAVAILABLE, after the answers due on it. */
  endStreams(): void;
  /** Cancels whatever is still running and closes every connection. */
  forceClose(): void;
}

interface GrpcStartOptions {
  /** Called with each line worth telling an operator (the address, flags that cannot apply). */
  readonly announce: (line: string) => void;
  /** The server's logger: INTERNAL errors are logged there, with their stack. */
  readonly logger: Logger;
}

/** Reads the PEM files the TLS flags name; a missing file is an error that names its flag. */
async function credentials(options: GrpcOptions): Promise<grpc.ServerCredentials> {
  if (!options.useSsl) return grpc.ServerCredentials.createInsecure();
  const read = async (path: string | null, flag: string): Promise<Buffer> => {
    try {
      return await readFile(path!);
    } catch (err) {
      throw new Error(`--${flag}: cannot read '${path}': ${(err as Error).message}`);
    }
  };
  const certChain = await read(options.serverCertPath, 'grpc-server-cert');
  const privateKey = await read(options.serverKeyPath, 'grpc-server-key');
  const root = options.useSslMutual ? await read(options.rootCertPath, 'grpc-root-cert') : null;
  return grpc.ServerCredentials.createSsl(root, [{ cert_chain: certChain, private_key: privateKey }], options.useSslMutual);
}

/** grpc-js server options for the flags it has a knob for (unenforcedGrpcFlags lists the rest). */
function channelOptions(options: GrpcOptions): grpc.ServerOptions {
  return {
    // Channelz stays on although nothing reads it: grpc-js 1.14 tracks connections for
    // forceShutdown only through channelz, so without it a forced close leaves them open.
    'grpc.max_receive_message_length': options.maxMessageSizeBytes,
    'grpc.max_send_message_length': -1,
    'grpc.keepalive_time_ms': options.keepaliveTimeMs,
    'grpc.keepalive_timeout_ms': options.keepaliveTimeoutMs,
    ...(options.maxConnectionAgeMs !== null ? { 'grpc.max_connection_age_ms': options.maxConnectionAgeMs } : {}),
    ...(options.maxConnectionAgeGraceMs !== null ? { 'grpc.max_connection_age_grace_ms': options.maxConnectionAgeGraceMs } : {}),
  };
}

/** How often the health service re-reads the server's readiness. */
const kHealthRefreshMs = 1000;

/** "host:port", with an IPv6 host in brackets. */
function endpoint(address: string, port: number): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Starts the gRPC front-end; rejects when the port cannot be bound or a TLS file is unreadable. */
export async function startGrpcServer(ctx: ApiContext, settings: GrpcServerSettings, start: GrpcStartOptions): Promise<GrpcFrontEnd> {
  const logInternal: InternalErrorLog = (err, rpc) => {
    start.logger.error({ err }, `gRPC ${rpc} failed`);
  };
  const restrictions = settings.restrictions ?? new Map();
  const server = new grpc.Server({
    ...channelOptions(settings),
    ...(restrictions.size > 0 ? { interceptors: [restrictionInterceptor(restrictions)] } : {}),
  });
  const streams = new OpenStreams();
  server.addService(inferenceServerDefinition(maxMessageValues(ctx)), {
    ...grpcModelHandlers(ctx, logInternal),
    ...grpcInferHandlers(ctx, logInternal, streams),
  });

  // The health service answers for the server ('') and for the inference service by name,
  // from the server's readiness. grpc-health-check holds a status rather than asking, so the
  // status is refreshed when asked to and once a second (watchers hear only changes).
  let status: ServingStatus = ctx.isReady() ? 'SERVING' : 'NOT_SERVING';
  const health = new HealthImplementation({ '': status, [INFERENCE_SERVICE]: status });
  health.addToServer(server);
  const setHealth = (next: ServingStatus) => {
    if (next === status) return;
    status = next;
    health.setStatus('', next);
    health.setStatus(INFERENCE_SERVICE, next);
  };
  const refreshHealth = () => setHealth(ctx.isReady() ? 'SERVING' : 'NOT_SERVING');

  // Reflection describes both packages, so grpcurl can call either without the .proto files.
  new ReflectionService({ ...inferencePackageDefinition(), ...healthPackageDefinition() }).addToServer(server);
  checkEveryMethodHasAGroup(server);

  let port: number;
  try {
    const creds = await credentials(settings);
    port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(endpoint(settings.address, settings.port), creds, (err, bound) => (err ? reject(err) : resolve(bound)));
    });
  } catch (err) {
    server.forceShutdown();
    throw err;
  }
  const modelInferDirect = routeUnaryDirectly(server, {
    path: `/${INFERENCE_SERVICE}/ModelInfer`,
    maxRequestBytes: settings.maxMessageSizeBytes,
    limitFlag: '--grpc-max-message-size',
    call: modelInferOnBytes(ctx, logInternal),
    // A call without the inference group's key goes to grpc-js, whose interceptor refuses it.
    admit: inferenceAdmits(restrictions),
  });
  const healthTimer = setInterval(refreshHealth, kHealthRefreshMs);
  healthTimer.unref();

  start.announce(`gRPC: listening on ${endpoint(settings.address, port)}`);
  if (settings.responseCompressionLevel !== 'none') {
    start.announce(`--grpc-infer-response-compression-level=${settings.responseCompressionLevel}: @grpc/grpc-js cannot compress responses, so they are sent uncompressed (compressed requests are accepted)`);
  }
  for (const flag of unenforcedGrpcFlags(settings)) start.announce(`${flag} has no effect: @grpc/grpc-js has no such setting`);
  if (modelInferDirect === null) start.announce('gRPC: this @grpc/grpc-js release hides its HTTP/2 servers, so ModelInfer runs through grpc-js alone (slower, same answers)');

  return {
    port,
    modelInferDirect,
    endpoint: endpoint(settings.address, port),
    refreshHealth,
    drain: () => {
      // Health watchers hear NOT_SERVING before the listeners close.
      clearInterval(healthTimer);
      setHealth('NOT_SERVING');
      return new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
    get openStreams() { return streams.size; },
    streamsClosed: () => streams.empty(),
    endStreams: () => streams.endAll({ code: GrpcCode.UNAVAILABLE, details: serverError('SERVER_CLOSING').message }),
    forceClose: () => {
      clearInterval(healthTimer);
      server.forceShutdown();
    },
  };
}

/**
 * Refuses, with PERMISSION_DENIED and Triton's message, a call to a restricted group whose
 * metadata lacks `triton-grpc-protocol-<key>: <value>`; a method with no group is refused too.
 * One interceptor covers every service on the server (inference, health, reflection).
 */
function restrictionInterceptor(restrictions: Restrictions): grpc.ServerInterceptor {
  return (method, call) => new grpc.ServerInterceptingCall(call, {
    start: (next) => next({
      onReceiveMetadata: (metadata, pass) => {
        const group = GRPC_METHOD_GROUPS[method.path];
        try {
          if (group === undefined) throw serverError('INTERNAL', `gRPC method ${method.path} has no API group`);
          checkRestricted(restrictions, group, (name) => metadata.get(name), 'protocol');
        } catch (err) {
          call.sendStatus({ ...grpcErrorReply(err), metadata: new grpc.Metadata() });
          return;
        }
        pass(metadata);
      },
    }),
  });
}

/** For the direct ModelInfer route: whether the HTTP/2 headers carry the inference group's key. */
function inferenceAdmits(restrictions: Restrictions): ((headers: Record<string, unknown>) => boolean) | undefined {
  const restriction = restrictions.get(GRPC_METHOD_GROUPS[`/${INFERENCE_SERVICE}/ModelInfer`]);
  if (restriction === undefined) return undefined;
  return (headers) => admits(restriction, headers[restriction.header] as string | undefined);
}

/**
 * Every method the server serves must have an API group (api/shared/api-groups.ts), or
 * --grpc-restricted-protocol could not cover it. grpc-js keeps its handlers in a private map;
 * where a release renames it there is nothing to check here (test/api/access-control.test.ts
 * still checks the table against the services' definitions).
 */
function checkEveryMethodHasAGroup(server: grpc.Server): void {
  const handlers = (server as unknown as { handlers?: unknown }).handlers;
  if (!(handlers instanceof Map)) return;
  for (const path of handlers.keys()) {
    if (GRPC_METHOD_GROUPS[path as string] === undefined) throw new Error(`gRPC method ${String(path)} has no API group in api/shared/api-groups.ts`);
  }
}
