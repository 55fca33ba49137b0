/**
 * Triton's shared-memory extensions over HTTP, with its paths and bodies:
 *
 *   GET  /v2/systemsharedmemory[/region/{name}]/status
 *   POST /v2/systemsharedmemory/region/{name}/register   {"key", "offset", "byte_size"}
 *   POST /v2/systemsharedmemory[/region/{name}]/unregister
 *
 * and the same under /v2/cudasharedmemory (register takes {"raw_handle": {"b64"}, "device_id",
 * "byte_size"}). Status answers a JSON array; register and unregister answer 200 with an empty
 * body. The registries (src/shm) do the checking; this file only reads bodies and writes JSON.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { serverError } from '../errors.ts';
import type { RegionStatus } from '../shm/index.ts';
import type { ApiContext } from './api-context.ts';
import { parseJson } from './codec-json.ts';

type Params = { name: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The JSON body of a register request, as an object. */
function registerBody(req: FastifyRequest, ctx: ApiContext): Record<string, unknown> {
  const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  const body = raw.length === 0 ? {} : parseJson(raw, ctx.maxJsonDepth);
  if (!isObject(body)) throw serverError('BAD_REQUEST', 'a shared memory register request must be a JSON object');
  return body;
}

/** A register request's unsigned integer field; `fallback` when it may be left out. */
function count(body: Record<string, unknown>, field: string, fallback?: number): number {
  const v = body[field];
  if (v === undefined && fallback !== undefined) return fallback;
  if (v === undefined) throw serverError('BAD_REQUEST', `Shared memory register request has no '${field}' field`);
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw serverError('BAD_REQUEST', `Shared memory register request's '${field}' must be a non-negative integer`);
  }
  return v;
}

const systemStatusJson = (r: RegionStatus) => ({ name: r.name, key: r.key, offset: r.offset, byte_size: r.byteSize });

const ok = (reply: FastifyReply) => reply.code(200).type('application/json').send();

/** Adds the system and CUDA shared-memory routes to `app`. */
export function shmRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const system = '/v2/systemsharedmemory';
  app.get(`${system}/status`, async () => ctx.clientRegions.status().map(systemStatusJson));
  app.get(`${system}/region/:name/status`, async (req) => ctx.clientRegions.status((req.params as Params).name).map(systemStatusJson));
  app.post(`${system}/region/:name/register`, async (req, reply) => {
    // The flag is checked before the body, as Triton does, so its message is the one a client sees.
    if (!ctx.clientRegions.allowed) throw serverError('SHM_DISABLED');
    const body = registerBody(req, ctx);
    if (body.key === undefined) throw serverError('BAD_REQUEST', "Shared memory register request has no 'key' field");
    if (typeof body.key !== 'string') throw serverError('BAD_REQUEST', "Shared memory register request's 'key' must be a string");
    ctx.clientRegions.register((req.params as Params).name, body.key, count(body, 'offset', 0), count(body, 'byte_size'));
    return ok(reply);
  });
  app.post(`${system}/unregister`, async (_req, reply) => {
    ctx.clientRegions.unregisterAll();
    return ok(reply);
  });
  app.post(`${system}/region/:name/unregister`, async (req, reply) => {
    ctx.clientRegions.unregister((req.params as Params).name);
    return ok(reply);
  });

  const cuda = '/v2/cudasharedmemory';
  const cudaStatusJson = (r: { name: string; deviceId: number; byteSize: number }) => ({ name: r.name, device_id: r.deviceId, byte_size: r.byteSize });
  app.get(`${cuda}/status`, async () => ctx.cudaRegions.status().map(cudaStatusJson));
  app.get(`${cuda}/region/:name/status`, async (req) => ctx.cudaRegions.status((req.params as Params).name).map(cudaStatusJson));
  app.post(`${cuda}/region/:name/register`, async (req) => {
    if (!ctx.clientRegions.allowed) throw serverError('SHM_DISABLED');
    registerBody(req, ctx); // a malformed body is still a 400
    return ctx.cudaRegions.register((req.params as Params).name);
  });
  app.post(`${cuda}/unregister`, async (_req, reply) => {
    ctx.cudaRegions.unregister();
    return ok(reply);
  });
  app.post(`${cuda}/region/:name/unregister`, async (_req, reply) => {
    ctx.cudaRegions.unregister();
    return ok(reply);
  });
}
