/**
 * The shared-memory parameters of a tensor in an inference request (the same three in HTTP/JSON
 * and in gRPC's InferParameter map): `shared_memory_region` (required), `shared_memory_byte_size`
 * (required), `shared_memory_offset` (optional, 0 by default).
 */
import { serverError } from '../errors.ts';

/** Where a tensor's bytes are in a client region; `offset` is relative to the region's start. */
export interface RegionRef {
  readonly region: string;
  readonly offset: number;
  readonly byteSize: number;
}

const bad = (message: string) => serverError('BAD_REQUEST', message);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * The region reference in a tensor's parameters, or undefined when it names none. `what` names
 * the tensor in messages, e.g. "input 'INPUT0'". Values must already be plain JSON values (a gRPC
 * front-end passes int64_param as a number).
 */
export function regionRefOf(params: Readonly<Record<string, unknown>>, what: string): RegionRef | undefined {
  const { shared_memory_region: region, shared_memory_offset: offset, shared_memory_byte_size: byteSize } = params;
  if (region === undefined) {
    if (offset !== undefined || byteSize !== undefined) {
      throw bad(`${what}: parameters.shared_memory_offset and shared_memory_byte_size need parameters.shared_memory_region`);
    }
    return undefined;
  }
  if (typeof region !== 'string' || region === '') throw bad(`${what}: parameters.shared_memory_region must be a non-empty string`);
  if (byteSize === undefined) throw bad(`${what}: parameters.shared_memory_byte_size must be given with shared_memory_region`);
  if (!isCount(byteSize)) throw bad(`${what}: parameters.shared_memory_byte_size must be a non-negative integer`);
  if (offset !== undefined && !isCount(offset)) throw bad(`${what}: parameters.shared_memory_offset must be a non-negative integer`);
  return { region, offset: (offset as number | undefined) ?? 0, byteSize };
}

/**
 * The parameters an output written into a region is answered with: the region, the offset when
 * not 0 (as Triton's clients send it), and the bytes actually written (for BYTES outputs the only
 * way a client learns the length of what it must read back).
 */
export function regionResponseParameters(ref: RegionRef, bytesWritten: number): Record<string, string | number> {
  const out: Record<string, string | number> = { shared_memory_region: ref.region };
  if (ref.offset !== 0) out.shared_memory_offset = ref.offset;
  out.shared_memory_byte_size = bytesWritten;
  return out;
}
