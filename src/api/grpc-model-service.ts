/**
 * The unary RPCs other than inference: health, metadata, configuration, statistics and the
 * repository index, answered from the same sources as the HTTP routes; and the RPCs whose feature this
 * server does not have yet, which answer UNIMPLEMENTED with a message naming what is missing.
 */
import type * as grpc from '@grpc/grpc-js';
import { ServerError, serverError } from '../errors.ts';
import type { ApiContext } from './api-context.ts';
import { grpcErrorReply } from './error-reply.ts';
import type { InternalErrorLog } from './grpc-infer-service.ts';
import { EXTENSIONS } from './http-health-routes.ts';
import { modelStatistics } from './http-stats-routes.ts';
import { modelMetadata, repositoryIndex } from './model-info.ts';

type Request = Record<string, any>;
type Handler = (request: Request) => unknown;

/** Wraps a function of the request as a grpc-js unary handler; a throw becomes its status. */
function unary(name: string, fn: Handler, logInternal: InternalErrorLog): grpc.handleUnaryCall<Request, unknown> {
  return (call, callback) => {
    try {
      callback(null, fn(call.request));
    } catch (err) {
      if (!(err instanceof ServerError) || err.kind === 'INTERNAL') logInternal(err, name);
      callback(grpcErrorReply(err));
    }
  };
}

const notYet = (what: string): Handler => () => {
  throw serverError('UNSUPPORTED', what);
};

/**
 * The features other work owns, with the message a client sees until it lands: shared memory
 * (system and CUDA), trace and log settings, and explicit model control.
 */
const kUnimplemented: Record<string, string> = {
  RepositoryModelLoad: 'explicit model control is not supported yet: models are loaded at start-up (--model-control-mode=none)',
  RepositoryModelUnload: 'explicit model control is not supported yet: models are loaded at start-up (--model-control-mode=none)',
  SystemSharedMemoryStatus: 'system shared memory is not supported yet',
  SystemSharedMemoryRegister: 'system shared memory is not supported yet',
  SystemSharedMemoryUnregister: 'system shared memory is not supported yet',
  CudaSharedMemoryStatus: 'CUDA shared memory is not supported yet',
  CudaSharedMemoryRegister: 'CUDA shared memory is not supported yet',
  CudaSharedMemoryUnregister: 'CUDA shared memory is not supported yet',
  TraceSetting: 'trace settings are not supported yet',
  LogSettings: 'log settings are not supported yet',
};

/** Every unary RPC of GRPCInferenceService except ModelInfer. */
export function grpcModelHandlers(ctx: ApiContext, logInternal: InternalErrorLog): grpc.UntypedServiceImplementation {
  const { registry } = ctx;
  const handlers: Record<string, Handler> = {
    ServerLive: () => ({ live: ctx.isLive() }),
    ServerReady: () => ({ ready: ctx.isReady() }),
    ModelReady: (r) => ({ ready: registry.isReady(r.name, r.version || undefined) }),
    ServerMetadata: () => ({ name: 'nereid', version: ctx.version, extensions: [...EXTENSIONS] }),
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
  };
  for (const [rpc, what] of Object.entries(kUnimplemented)) handlers[rpc] = notYet(what);
  return Object.fromEntries(Object.entries(handlers).map(([rpc, fn]) => [rpc, unary(rpc, fn, logInternal)]));
}
