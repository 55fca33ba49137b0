/**
 * Tensor data as every front-end builds it: raw little-endian bytes (HTTP's binary extension,
 * gRPC's raw_input_contents) kept where they are, or a flat list of values (JSON `data`, gRPC
 * typed contents) converted here into one buffer of little-endian bytes, so the scheduler only
 * copies bytes; and an output's bytes for the wire. Call these only after the request header
 * passed checkRequest: sizes are checked against the shape here, and nothing is allocated for a
 * request about to be refused.
 */
import { floatToBfloat, floatToHalf, type DatatypeInfo } from '../dtypes.ts';
import { quote, serverError } from '../errors.ts';
import { readFully } from '../shm/index.ts';
import type { InferOutput, RawTensorData, RegionTensorData, TensorData } from './infer-request.ts';
import { decodeBytesElements, encodeBytesElements, InexactBytesElement, stringToElement, type BytesForm } from '../bytes-elements.ts';

/**
 * Raw bytes → tensor data. Numeric bytes are checked against the shape and left where they
 * are (a view into the request body or message) until the batch is formed: the one copy is
 * into the slot. BYTES are decoded from their 4-byte length prefixes.
 */
export function tensorFromRaw(name: string, dt: DatatypeInfo, count: number, bytes: Uint8Array, rid: string, form: BytesForm = 'text'): TensorData {
  if (dt.wire === 'BYTES') {
    try {
      return { kind: 'strings', strings: decodeBytesElements(bytes, count, `input '${quote(name)}'`, form) };
    } catch (err) {
      throw bytesError(err, name, rid);
    }
  }
  const expected = count * dt.byteSize;
  if (bytes.length !== expected) {
    throw serverError('DATA_SIZE_MISMATCH', rid, `input byte size mismatch for input '${quote(name)}': expected ${expected} bytes for its shape, got ${bytes.length}`);
  }
  return { kind: 'raw', bytes };
}

/** The ServerError for a failure to decode BYTES elements of input `name`. */
export function bytesError(err: unknown, name: string, rid: string): Error {
  if (err instanceof InexactBytesElement) return serverError('BYTES_NOT_EXACT', rid, name, err.index, err.why);
  return serverError('DATA_SIZE_MISMATCH', rid, (err as Error).message);
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
 * of the datatype or out of its range. Numbers are converted here, into one new buffer of the
 * tensor's little-endian bytes, before the request is queued: the batcher then copies bytes only,
 * and the conversion counts with the request's decoding, not with compute_input. Its cost is one
 * buffer per input and a pass over values already walked by the check, small next to parsing
 * the JSON that produced them. BYTES values must be strings and are kept as they are.
 */
export function tensorFromValues(name: string, dt: DatatypeInfo, count: number, values: ArrayLike<unknown>, rid: string, form: BytesForm = 'text'): TensorData {
  if (values.length !== count) {
    throw serverError('DATA_SIZE_MISMATCH', rid, `input '${quote(name)}' has ${values.length > count ? 'more' : 'fewer'} data elements than the ${count} its shape needs`);
  }
  const ok = checks[dt.wire];
  for (let i = 0; i < count; i++) {
    if (!ok(values[i])) throw serverError('BAD_DATA', rid, `input '${quote(name)}': data element ${i} is not a valid ${dt.wire} value`);
  }
  if (dt.wire === 'BYTES') {
    // JSON strings: exactly the text given, when the backend can carry it (bytes-elements.ts).
    const strings: string[] = new Array(count);
    try {
      for (let i = 0; i < count; i++) strings[i] = stringToElement(values[i] as string, i, form);
    } catch (err) {
      throw bytesError(err, name, rid);
    }
    return { kind: 'strings', strings };
  }
  return { kind: 'raw', bytes: valuesToBytes(dt, values) };
}

/** Checked values as `dt`'s little-endian elements, in a new (so aligned) buffer. */
function valuesToBytes(dt: DatatypeInfo, values: ArrayLike<unknown>): Uint8Array {
  const count = values.length;
  const target = new dt.array!(new ArrayBuffer(count * dt.byteSize));
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
  return new Uint8Array(target.buffer);
}

/**
 * Copies numeric contents into `target` (exactly their byte size): raw bytes as they are, region
 * bytes read from the client's object. A failed read never throws: the target is zero-filled,
 * since it may still hold an earlier batch's bytes (another client's data) that must not stand in
 * for this input, and the failure is recorded to fail this request alone once it settles.
 */
export function copyNumeric(data: RawTensorData | RegionTensorData, target: Uint8Array): void {
  switch (data.kind) {
    case 'raw':
      target.set(data.bytes);
      return;
    case 'region': {
      const failure = readFully(data.file.fd, target, data.file.position);
      if (failure !== null) {
        target.fill(0);
        data.failed(failure);
      }
    }
  }
}

/**
 * The bytes of an output as raw contents: a view of its buffer, or length-prefixed BYTES (each
 * element's UTF-8, or its bytes for a backend that carries raw bytes: `form`).
 */
export function outputBytes(output: InferOutput, form: BytesForm = 'text'): Buffer {
  if (Array.isArray(output.data)) return encodeBytesElements(output.data, form);
  return Buffer.from(output.data as ArrayBuffer);
}
