/**
 * The unary RPCs other than inference: health, metadata, configuration, statistics, the
 * repository index and the shared-memory extensions, answered from the same sources as the HTTP
 * routes (shared memory through shm-requests.ts); and the RPCs whose feature this server does not
 * have yet, which answer UNIMPLEMENTED with a message naming what is missing.
 */
import type * as grpc from '@grpc/grpc-js';
import { ServerError, serverError } from '../../errors.ts';
import type { ApiContext } from '../shared/api-context.ts';
import { grpcErrorReply } from '../shared/error-reply.ts';
import type { InternalErrorLog } from './grpc-infer-service.ts';
import { EXTENSIONS } from '../shared/extensions.ts';
import { modelStatistics } from '../http/http-stats-routes.ts';
import { modelMetadata, repositoryIndex } from '../shared/model-info.ts';
import { logSettingsFromGrpc, logSettingsToGrpc, traceSettingFromGrpc, traceSettingToGrpc } from './grpc-settings.ts';
import {
  checkShmAllowed,
  cudaStatusFields,
  grpcInteger,
  registerCudaRegion,
  registerSystemRegion,
  systemStatusFields,
  unregisterSystemRegions,
} from '../shared/shm-requests.ts';

type Request = Record<string, any>;
type Handler = (request: Request) => unknown;

/**
 * Wraps a function of the request (its answer, or a promise of it) as a grpc-js unary handler; a
 * throw or a rejection becomes its status.
 */
function unary(name: string, fn: Handler, logInternal: InternalErrorLog): grpc.handleUnaryCall<Request, unknown> {
  const fail = (err: unknown, callback: grpc.sendUnaryData<unknown>) => {
    if (!(err instanceof ServerError) || err.kind === 'INTERNAL') logInternal(err, name);
    callback(grpcErrorReply(err));
  };
  return (call, callback) => {
    let answer: unknown;
    try {
      answer = fn(call.request);
    } catch (err) {
      fail(err, callback);
      return;
    }
    if (answer instanceof Promise) answer.then((value) => callback(null, value), (err: unknown) => fail(err, callback));
    else callback(null, answer);
  };
}

const notYet = (what: string): Handler => () => {
  throw serverError('UNSUPPORTED', what);
};

/**
 * The features not built yet, with the message a client sees: explicit model control.
 */
const kUnimplemented: Record<string, string> = {
  RepositoryModelLoad: 'explicit model control is not supported yet: models are loaded at start-up (--model-control-mode=none)',
  RepositoryModelUnload: 'explicit model control is not supported yet: models are loaded at start-up (--model-control-mode=none)',
};

/** Every unary RPC of GRPCInferenceService except ModelInfer. */
export function grpcModelHandlers(ctx: ApiContext, logInternal: InternalErrorLog): grpc.UntypedServiceImplementation {
  const { registry } = ctx;
  const handlers: Record<string, Handler> = {
    ServerLive: () => ({ live: ctx.isLive() }),
    ServerReady: () => ({ ready: ctx.isReady() }),
    ModelReady: (r) => ({ ready: registry.isReady(r.name, r.version || undefined) }),
    ServerMetadata: () => ({ name: ctx.serverId ?? 'nereid', version: ctx.version, extensions: [...EXTENSIONS] }),
    ModelMetadata: (r) => modelMetadata(registry, r.name, r.version || undefined),
    ModelConfig: (r) => {
      const config = registry.config(r.name);
      if (r.version) registry.ready(r.name, r.version);
      return { config: config.raw };
    },
    // An empty name asks for every model, an empty version for every ready version.
    ModelStatistics: (r) => modelStatistics(registry, r.name || undefined, r.version || undefined),
    // repository_name is accepted and ignored: every repository is listed, as in Triton.
    RepositoryIndex: (r) => ({ models: repositoryIndex(registry, r.ready === true).map((e) => ({ ...e, version: e.version ?? '' })) }),
    ...sharedMemoryHandlers(ctx),
    // The logging and trace extensions, on the same settings objects as the HTTP routes.
    LogSettings: (r) => ({ settings: logSettingsToGrpc(ctx.logSettings.update(logSettingsFromGrpc(r.settings))) }),
    TraceSetting: (r) => ({
      settings: traceSettingToGrpc(ctx.tracing.update(traceSettingFromGrpc(r.settings), r.model_name ? registry.ready(r.model_name).config.name : undefined)),
    }),
  };
  for (const [rpc, what] of Object.entries(kUnimplemented)) handlers[rpc] = notYet(what);
  return Object.fromEntries(Object.entries(handlers).map(([rpc, fn]) => [rpc, unary(rpc, fn, logInternal)]));
}

/** Status answers map each region's name to its status. */
const byName = <T extends { name: string }>(list: readonly T[]): Record<string, T> => Object.fromEntries(list.map((r) => [r.name, r]));

/**
 * The six shared-memory RPCs, with Triton's messages. An empty name means every region (status,
 * unregister), as in Triton; the checks and messages are the HTTP routes' (shm-requests.ts).
 */
function sharedMemoryHandlers(ctx: ApiContext): Record<string, Handler> {
  const nameOf = (r: Request): string | undefined => (r.name ? String(r.name) : undefined);
  return {
    SystemSharedMemoryStatus: (r) => ({ regions: byName(ctx.clientRegions.status(nameOf(r)).map(systemStatusFields)) }),
    SystemSharedMemoryRegister: (r) => {
      checkShmAllowed(ctx);
      registerSystemRegion(ctx, r.name ?? '', { key: r.key, offset: grpcInteger(r.offset), byte_size: grpcInteger(r.byte_size) });
      return {};
    },
    SystemSharedMemoryUnregister: (r) => {
      unregisterSystemRegions(ctx, nameOf(r));
      return {};
    },
    CudaSharedMemoryStatus: (r) => ({ regions: byName(ctx.cudaRegions.status(nameOf(r)).map(cudaStatusFields)) }),
    CudaSharedMemoryRegister: (r) => registerCudaRegion(ctx, r.name ?? ''),
    CudaSharedMemoryUnregister: () => {
      ctx.cudaRegions.unregister();
      return {};
    },
  };
}
