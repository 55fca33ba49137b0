/**
 * Tensor data as every front-end builds it: raw little-endian bytes (HTTP's binary extension,
 * gRPC's raw_input_contents) or a flat list of values (JSON `data`, gRPC typed contents) turned
 * into the writer the batcher calls once, straight into the batch's ring slot; and an output's
 * bytes for the wire. Call these only after the request header passed checkRequest: sizes are
 * checked against the shape here, and nothing is allocated for a request about to be refused.
 */
import { floatToBfloat, floatToHalf, type DatatypeInfo } from '../dtypes.ts';
import { serverError } from '../errors.ts';
import type { InferOutput, TensorData } from './infer-request.ts';
import { decodeBytesElements, encodeBytesElements } from '../bytes-elements.ts';

/**
 * Raw bytes → tensor data. Numeric bytes are checked against the shape and left where they
 * are (a view into the request body or message) until the batch is formed: the one copy is
 * into the slot. BYTES are decoded from their 4-byte length prefixes.
 */
export function tensorFromRaw(name: string, dt: DatatypeInfo, count: number, bytes: Uint8Array, rid: string): TensorData {
  if (dt.wire === 'BYTES') {
    try {
      return decodeBytesElements(bytes, count, `input '${name}'`);
    } catch (err) {
      throw serverError('DATA_SIZE_MISMATCH', rid, (err as Error).message);
    }
  }
  const expected = count * dt.byteSize;
  if (bytes.length !== expected) {
    throw serverError('DATA_SIZE_MISMATCH', rid, `input byte size mismatch for input '${name}': expected ${expected} bytes for its shape, got ${bytes.length}`);
  }
  return { byteLength: expected, writeTo: (target) => target.set(bytes) };
}

type Check = (v: unknown) => boolean;
const intIn = (lo: number, hi: number): Check => (v) => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;
/** An integer as a number or a bigint (gRPC's 64-bit contents arrive as bigints). */
const int64In = (lo: bigint, hi: bigint): Check => (v) =>
  (typeof v === 'number' && Number.isInteger(v) && v >= Number(lo) && v < Number(hi) + 1) || (typeof v === 'bigint' && v >= lo && v <= hi);
const checks: Record<string, Check> = {
  BOOL: (v) => typeof v === 'boolean',
  UINT8: intIn(0, 255), UINT16: intIn(0, 65535), UINT32: intIn(0, 2 ** 32 - 1),
  INT8: intIn(-128, 127), INT16: intIn(-32768, 32767), INT32: intIn(-(2 ** 31), 2 ** 31 - 1),
  INT64: int64In(-(2n ** 63n), 2n ** 63n - 1n),
  UINT64: int64In(0n, 2n ** 64n - 1n),
  FP16: (v) => typeof v === 'number', FP32: (v) => typeof v === 'number', FP64: (v) => typeof v === 'number',
  BF16: (v) => typeof v === 'number', BYTES: (v) => typeof v === 'string',
};

/**
 * Flat values → tensor data. Refuses a count that differs from the shape's, and any value not
 * of the datatype or out of its range; numbers are converted once, into the slot, when the
 * batch is formed. BYTES values must be strings and are kept as they are.
 */
export function tensorFromValues(name: string, dt: DatatypeInfo, count: number, values: ArrayLike<unknown>, rid: string): TensorData {
  if (values.length !== count) {
    throw serverError('DATA_SIZE_MISMATCH', rid, `input '${name}' has ${values.length > count ? 'more' : 'fewer'} data elements than the ${count} its shape needs`);
  }
  const ok = checks[dt.wire];
  for (let i = 0; i < count; i++) {
    if (!ok(values[i])) throw serverError('BAD_DATA', rid, `input '${name}': data element ${i} is not a valid ${dt.wire} value`);
  }
  if (dt.wire === 'BYTES') return Array.isArray(values) ? (values as string[]) : Array.from(values as ArrayLike<string>);
  return { byteLength: count * dt.byteSize, writeTo: (bytes) => writeValues(dt, values, bytes) };
}

/** Writes checked values as `dt`'s little-endian elements into `bytes` (sized for them). */
function writeValues(dt: DatatypeInfo, values: ArrayLike<unknown>, bytes: Uint8Array): void {
  const count = values.length;
  // Typed arrays need an aligned offset; slots are aligned, but a caller's buffer may not be.
  const aligned = bytes.byteOffset % dt.byteSize === 0;
  const target = aligned ? new dt.array!(bytes.buffer, bytes.byteOffset, count) : new dt.array!(new ArrayBuffer(bytes.length));
  switch (dt.json) {
    case 'bigint':
      for (let i = 0; i < count; i++) (target as BigInt64Array)[i] = BigInt(values[i] as number | bigint);
      break;
    case 'bool':
      for (let i = 0; i < count; i++) (target as Uint8Array)[i] = values[i] ? 1 : 0;
      break;
    case 'half':
      for (let i = 0; i < count; i++) (target as Uint16Array)[i] = floatToHalf(values[i] as number);
      break;
    case 'bfloat':
      for (let i = 0; i < count; i++) (target as Uint16Array)[i] = floatToBfloat(values[i] as number);
      break;
    default:
      (target as Float64Array).set(values as ArrayLike<number>);
  }
  if (!aligned) bytes.set(new Uint8Array(target.buffer));
}

/** The bytes of an output as raw contents: a view of its buffer, or length-prefixed BYTES. */
export function outputBytes(output: InferOutput): Buffer {
  if (Array.isArray(output.data)) return encodeBytesElements(output.data);
  return Buffer.from(output.data as ArrayBuffer);
}
