/**
 * The unary RPCs other than inference: health, metadata, configuration, statistics, the
 * repository index and the shared-memory extensions, answered from the same sources as the HTTP
 * routes (shared memory through shm-requests.ts, load/unload through repository-requests.ts).
 */
import type * as grpc from '@grpc/grpc-js';
import { ServerError, serverError } from '../../errors.ts';
import type { ApiContext } from '../shared/api-context.ts';
import { grpcErrorReply } from '../shared/error-reply.ts';
import type { InternalErrorLog } from './grpc-infer-service.ts';
import { serverExtensions } from '../shared/extensions.ts';
import { modelStatistics } from '../http/http-stats-routes.ts';
import { modelMetadata } from '../shared/model-info.ts';
import { loadParameters, unloadDependents, type RepositoryParameter } from '../shared/repository-requests.ts';
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

/** A ModelRepositoryParameter map (oneofs named by `parameter_choice`) in the shared form. */
function grpcParameters(map: unknown): Map<string, RepositoryParameter> {
  const out = new Map<string, RepositoryParameter>();
  if (map === null || typeof map !== 'object') return out;
  for (const [name, p] of Object.entries(map as Record<string, Record<string, unknown>>)) {
    switch (p?.parameter_choice) {
      case 'string_param': out.set(name, { kind: 'string', value: String(p.string_param) }); break;
      case 'bool_param': out.set(name, { kind: 'bool', value: p.bool_param === true }); break;
      case 'int64_param': out.set(name, { kind: 'int', value: Number(p.int64_param) }); break;
      case 'bytes_param': out.set(name, { kind: 'bytes', value: new Uint8Array(p.bytes_param as Buffer) }); break;
      default: throw serverError('BAD_REQUEST', `parameter '${name.length > 64 ? `${name.slice(0, 64)}...` : name}' has no value`);
    }
  }
  return out;
}

/** Every unary RPC of GRPCInferenceService except ModelInfer. */
export function grpcModelHandlers(ctx: ApiContext, logInternal: InternalErrorLog): grpc.UntypedServiceImplementation {
  const { registry } = ctx;
  const handlers: Record<string, Handler> = {
    ServerLive: () => ({ live: ctx.isLive() }),
    ServerReady: () => ({ ready: ctx.isReady() }),
    ModelReady: (r) => ({ ready: registry.isReady(r.name, r.version || undefined) }),
    ServerMetadata: () => ({ name: ctx.serverId ?? 'nereid', version: ctx.version, extensions: serverExtensions(ctx.models.explicit) }),
    ModelMetadata: (r) => modelMetadata(registry, r.name, r.version || undefined),
    ModelConfig: (r) => {
      const config = registry.config(r.name);
      if (r.version) registry.ready(r.name, r.version);
      return { config: config.raw };
    },
    // An empty name asks for every model, an empty version for every ready version.
    ModelStatistics: (r) => modelStatistics(registry, r.name || undefined, r.version || undefined),
    // repository_name is accepted and ignored: every repository is listed, as in Triton.
    RepositoryIndex: async (r) => ({
      models: (await ctx.models.index(r.ready === true)).map((e) => ({ name: e.name, version: e.version ?? '', state: e.state ?? '', reason: e.reason ?? '' })),
    }),
    RepositoryModelLoad: async (r) => {
      await ctx.models.load(String(r.model_name ?? ''), loadParameters(grpcParameters(r.parameters), 'bytes'));
      return {};
    },
    RepositoryModelUnload: async (r) => {
      await ctx.models.unload(String(r.model_name ?? ''), unloadDependents(grpcParameters(r.parameters)));
      return {};
    },
    ...sharedMemoryHandlers(ctx),
    // The logging and trace extensions, on the same settings objects as the HTTP routes.
    LogSettings: (r) => ({ settings: logSettingsToGrpc(ctx.logSettings.update(logSettingsFromGrpc(r.settings))) }),
    TraceSetting: (r) => ({
      settings: traceSettingToGrpc(ctx.tracing.update(traceSettingFromGrpc(r.settings), r.model_name ? registry.ready(r.model_name).config.name : undefined)),
    }),
  };
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
