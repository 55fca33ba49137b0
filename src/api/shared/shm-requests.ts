/**
 * The shared-memory extension's requests as both front-ends serve them: HTTP (http-shm-routes.ts)
 * and gRPC (grpc-model-service.ts) read their own wire format, then call these, so the checks, the
 * order they run in and the messages are the same on both. The registries (src/shm) do the rest.
 */
import { serverError } from '../../errors.ts';
import type { CudaRegionStatus, RegionStatus } from '../../shm/index.ts';
import type { ApiContext } from './api-context.ts';

/** The fields of a system register request, as plain values (numbers already converted). */
interface SystemRegisterFields {
  readonly key?: unknown;
  readonly offset?: unknown;
  readonly byte_size?: unknown;
}

/**
 * Refuses when client shared memory is off. Front-ends call it before reading a register
 * request's body, as Triton does, so the flag's message is the one a client sees.
 */
export function checkShmAllowed(ctx: ApiContext): void {
  if (!ctx.clientRegions.allowed) throw serverError('SHM_DISABLED');
}

/** A register request's unsigned integer field; `fallback` when it may be left out. */
function count(fields: SystemRegisterFields, field: 'offset' | 'byte_size', fallback?: number): number {
  const v = fields[field];
  if (v === undefined && fallback !== undefined) return fallback;
  if (v === undefined) throw serverError('BAD_REQUEST', `Shared memory register request has no '${field}' field`);
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw serverError('BAD_REQUEST', `Shared memory register request's '${field}' must be a non-negative integer`);
  }
  return v;
}

/** Registers system region `name` from a register request's fields. */
export function registerSystemRegion(ctx: ApiContext, name: string, fields: SystemRegisterFields): void {
  checkShmAllowed(ctx);
  if (fields.key === undefined) throw serverError('BAD_REQUEST', "Shared memory register request has no 'key' field");
  if (typeof fields.key !== 'string') throw serverError('BAD_REQUEST', "Shared memory register request's 'key' must be a string");
  ctx.clientRegions.register(name, fields.key, count(fields, 'offset', 0), count(fields, 'byte_size'));
}

/** Unregisters system region `name`, or every system region when `name` is undefined. */
export function unregisterSystemRegions(ctx: ApiContext, name: string | undefined): void {
  if (name === undefined) ctx.clientRegions.unregisterAll();
  else ctx.clientRegions.unregister(name);
}

/** Always rejects: CUDA regions cannot be registered here (see src/shm/cuda-regions.ts). */
export function registerCudaRegion(ctx: ApiContext, name: string): Promise<never> {
  checkShmAllowed(ctx);
  return ctx.cudaRegions.register(name);
}

/** A system region's status with Triton's field names (HTTP JSON and gRPC RegionStatus alike). */
export const systemStatusFields = (r: RegionStatus) => ({ name: r.name, key: r.key, offset: r.offset, byte_size: r.byteSize });

/** A CUDA region's status with Triton's field names. */
export const cudaStatusFields = (r: CudaRegionStatus) => ({ name: r.name, device_id: r.deviceId, byte_size: r.byteSize });

/**
 * A 64-bit integer field of a gRPC message (a decimal string under this project's loader options,
 * a number, or a Long from other options) as a number; a value past 2^53 stays unsafe, so the
 * callers' safe-integer checks refuse it rather than round it.
 */
export function grpcInteger(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string') return /^\d+$/.test(value) ? Number(value) : Number.NaN;
  // Long (or anything else that prints as a decimal integer).
  const text = String(value);
  return /^-?\d+$/.test(text) ? Number(text) : Number.NaN;
}
