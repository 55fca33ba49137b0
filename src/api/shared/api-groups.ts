/**
 * Every HTTP route and gRPC method, and the Triton API group it belongs to, for
 * --http-restricted-api and --grpc-restricted-protocol (cli/restricted-options.ts). This is the
 * one table: the HTTP server refuses to register a route that is not in it, and the gRPC server
 * refuses to start with a method that is not, so a new endpoint cannot slip past access control
 * (test/api/access-control.test.ts checks both ways).
 */
import { serverError } from '../../errors.ts';
import type { ApiGroup, Restriction, Restrictions } from '../../cli/index.ts';

/** `METHOD /fastify/route/:param` → group. HEAD routes (fastify adds one per GET) use their GET's. */
export const HTTP_ROUTE_GROUPS: Readonly<Record<string, ApiGroup>> = Object.freeze({
  'GET /v2/health/live': 'health',
  'GET /v2/health/ready': 'health',
  'GET /v2/models/:model/ready': 'health',
  'GET /v2/models/:model/versions/:version/ready': 'health',
  'GET /v2': 'metadata',
  'GET /v2/models/:model': 'metadata',
  'GET /v2/models/:model/versions/:version': 'metadata',
  'POST /v2/models/:model/infer': 'inference',
  'POST /v2/models/:model/versions/:version/infer': 'inference',
  'POST /v2/models/:model/generate': 'inference',
  'POST /v2/models/:model/versions/:version/generate': 'inference',
  'POST /v2/models/:model/generate_stream': 'inference',
  'POST /v2/models/:model/versions/:version/generate_stream': 'inference',
  'GET /v2/models/:model/config': 'model-config',
  'GET /v2/models/:model/versions/:version/config': 'model-config',
  'POST /v2/repository/index': 'model-repository',
  'POST /v2/repository/models/:model/load': 'model-repository',
  'POST /v2/repository/models/:model/unload': 'model-repository',
  'GET /v2/models/stats': 'statistics',
  'GET /v2/models/:model/stats': 'statistics',
  'GET /v2/models/:model/versions/:version/stats': 'statistics',
  'GET /v2/trace/setting': 'trace',
  'POST /v2/trace/setting': 'trace',
  'GET /v2/models/:model/trace/setting': 'trace',
  'POST /v2/models/:model/trace/setting': 'trace',
  'GET /v2/logging': 'logging',
  'POST /v2/logging': 'logging',
  'GET /v2/systemsharedmemory/status': 'shared-memory',
  'GET /v2/systemsharedmemory/region/:name/status': 'shared-memory',
  'POST /v2/systemsharedmemory/region/:name/register': 'shared-memory',
  'POST /v2/systemsharedmemory/unregister': 'shared-memory',
  'POST /v2/systemsharedmemory/region/:name/unregister': 'shared-memory',
  'GET /v2/cudasharedmemory/status': 'shared-memory',
  'GET /v2/cudasharedmemory/region/:name/status': 'shared-memory',
  'POST /v2/cudasharedmemory/region/:name/register': 'shared-memory',
  'POST /v2/cudasharedmemory/unregister': 'shared-memory',
  'POST /v2/cudasharedmemory/region/:name/unregister': 'shared-memory',
});

const kInference = '/inference.GRPCInferenceService/';

/**
 * Full gRPC method path → group. The standard health service is in `health`, as Triton's docs
 * say; server reflection, which describes the services and answers nothing else, is in
 * `metadata` (Triton does not restrict it).
 */
export const GRPC_METHOD_GROUPS: Readonly<Record<string, ApiGroup>> = Object.freeze({
  [`${kInference}ServerLive`]: 'health',
  [`${kInference}ServerReady`]: 'health',
  [`${kInference}ModelReady`]: 'health',
  '/grpc.health.v1.Health/Check': 'health',
  '/grpc.health.v1.Health/Watch': 'health',
  '/grpc.health.v1.Health/List': 'health',
  [`${kInference}ServerMetadata`]: 'metadata',
  [`${kInference}ModelMetadata`]: 'metadata',
  '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo': 'metadata',
  '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo': 'metadata',
  [`${kInference}ModelInfer`]: 'inference',
  [`${kInference}ModelStreamInfer`]: 'inference',
  [`${kInference}ModelConfig`]: 'model-config',
  [`${kInference}ModelStatistics`]: 'statistics',
  [`${kInference}RepositoryIndex`]: 'model-repository',
  [`${kInference}RepositoryModelLoad`]: 'model-repository',
  [`${kInference}RepositoryModelUnload`]: 'model-repository',
  [`${kInference}SystemSharedMemoryStatus`]: 'shared-memory',
  [`${kInference}SystemSharedMemoryRegister`]: 'shared-memory',
  [`${kInference}SystemSharedMemoryUnregister`]: 'shared-memory',
  [`${kInference}CudaSharedMemoryStatus`]: 'shared-memory',
  [`${kInference}CudaSharedMemoryRegister`]: 'shared-memory',
  [`${kInference}CudaSharedMemoryUnregister`]: 'shared-memory',
  [`${kInference}TraceSetting`]: 'trace',
  [`${kInference}LogSettings`]: 'logging',
});

/** The group of an HTTP route as fastify names it (`req.routeOptions.url`), or undefined. */
export function httpRouteGroup(method: string, url: string): ApiGroup | undefined {
  return HTTP_ROUTE_GROUPS[`${method === 'HEAD' ? 'GET' : method} ${url}`];
}

/** One header's value(s) as Node or grpc-js hand them over. */
type HeaderValue = string | readonly (string | Buffer)[] | Buffer | undefined;

/** Whether the header value is exactly the restriction's value (the first value, when repeated). */
export function admits(restriction: Restriction, value: HeaderValue): boolean {
  const first = Array.isArray(value) ? value[0] : value;
  return first !== undefined && String(first) === restriction.value;
}

/**
 * Throws 403 / PERMISSION_DENIED, with Triton's message naming the header, when `group` is
 * restricted and `header(name)` does not give the required value.
 */
export function checkRestricted(restrictions: Restrictions, group: ApiGroup, header: (name: string) => HeaderValue, kind: 'api' | 'protocol'): void {
  const restriction = restrictions.get(group);
  if (restriction === undefined || admits(restriction, header(restriction.header))) return;
  throw serverError(kind === 'api' ? 'RESTRICTED_API' : 'RESTRICTED_PROTOCOL', restriction.name);
}
