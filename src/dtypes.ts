/**
 * Tensor data types: wire names (KServe v2 / Triton), config names (`TYPE_` prefix), ONNX names,
 * element sizes and the typed arrays that hold them. A leaf: imports nothing from the project.
 */

type WireDatatype =
  | 'BOOL' | 'UINT8' | 'UINT16' | 'UINT32' | 'UINT64'
  | 'INT8' | 'INT16' | 'INT32' | 'INT64'
  | 'FP16' | 'FP32' | 'FP64' | 'BF16' | 'BYTES';

export type TypedArray =
  | Uint8Array | Uint16Array | Uint32Array | BigUint64Array
  | Int8Array | Int16Array | Int32Array | BigInt64Array
  | Float32Array | Float64Array;

type TypedArrayCtor = { new(buffer: ArrayBufferLike, byteOffset?: number, length?: number): TypedArray; readonly BYTES_PER_ELEMENT: number };

export interface DatatypeInfo {
  readonly wire: WireDatatype;
  /** The name in config.pbtxt (TYPE_STRING for BYTES). */
  readonly config: string;
  /** TensorProto.DataType name in ONNX. */
  readonly onnx: string;
  /**
   * The element type name that tensor descriptors and worker backends use ('float32', 'int64',
   * 'string'): onnxruntime-node's names, kept as the one vocabulary of the worker side. Null where
   * a backend has no such type (BF16).
   */
  readonly ort: string | null;
  /** Bytes per element; 0 for BYTES (variable). */
  readonly byteSize: number;
  /** The typed array holding the raw little-endian bytes; null for BYTES. */
  readonly array: TypedArrayCtor | null;
  /** How JSON carries it: numbers, bigint-safe integers, booleans, strings, or 16-bit floats. */
  readonly json: 'number' | 'bigint' | 'bool' | 'string' | 'half' | 'bfloat';
}

const table: DatatypeInfo[] = [
  { wire: 'BOOL', config: 'TYPE_BOOL', onnx: 'BOOL', ort: 'bool', byteSize: 1, array: Uint8Array, json: 'bool' },
  { wire: 'UINT8', config: 'TYPE_UINT8', onnx: 'UINT8', ort: 'uint8', byteSize: 1, array: Uint8Array, json: 'number' },
  { wire: 'UINT16', config: 'TYPE_UINT16', onnx: 'UINT16', ort: 'uint16', byteSize: 2, array: Uint16Array, json: 'number' },
  { wire: 'UINT32', config: 'TYPE_UINT32', onnx: 'UINT32', ort: 'uint32', byteSize: 4, array: Uint32Array, json: 'number' },
  { wire: 'UINT64', config: 'TYPE_UINT64', onnx: 'UINT64', ort: 'uint64', byteSize: 8, array: BigUint64Array, json: 'bigint' },
  { wire: 'INT8', config: 'TYPE_INT8', onnx: 'INT8', ort: 'int8', byteSize: 1, array: Int8Array, json: 'number' },
  { wire: 'INT16', config: 'TYPE_INT16', onnx: 'INT16', ort: 'int16', byteSize: 2, array: Int16Array, json: 'number' },
  { wire: 'INT32', config: 'TYPE_INT32', onnx: 'INT32', ort: 'int32', byteSize: 4, array: Int32Array, json: 'number' },
  { wire: 'INT64', config: 'TYPE_INT64', onnx: 'INT64', ort: 'int64', byteSize: 8, array: BigInt64Array, json: 'bigint' },
  { wire: 'FP16', config: 'TYPE_FP16', onnx: 'FLOAT16', ort: 'float16', byteSize: 2, array: Uint16Array, json: 'half' },
  { wire: 'FP32', config: 'TYPE_FP32', onnx: 'FLOAT', ort: 'float32', byteSize: 4, array: Float32Array, json: 'number' },
  { wire: 'FP64', config: 'TYPE_FP64', onnx: 'DOUBLE', ort: 'float64', byteSize: 8, array: Float64Array, json: 'number' },
  { wire: 'BF16', config: 'TYPE_BF16', onnx: 'BFLOAT16', ort: null, byteSize: 2, array: Uint16Array, json: 'bfloat' },
  { wire: 'BYTES', config: 'TYPE_STRING', onnx: 'STRING', ort: 'string', byteSize: 0, array: null, json: 'string' },
];

const byWire = new Map(table.map((d) => [d.wire as string, d]));
const byConfig = new Map(table.map((d) => [d.config, d]));
const byOnnx = new Map(table.map((d) => [d.onnx, d]));
const byElement = new Map(table.map((d) => [elementTypeOf(d), d]));

/**
 * The element type name of `dt` on the worker side: its onnxruntime-node name, or 'bfloat16' for
 * BF16, which onnxruntime-node lacks (only a backend other than onnxruntime is ever fed one).
 */
export function elementTypeOf(dt: DatatypeInfo): string {
  return dt.ort ?? 'bfloat16';
}

/** The datatype for a worker-side element type name ('float32', 'bfloat16', 'string'), or undefined. */
export function datatypeFromElement(type: string): DatatypeInfo | undefined {
  return byElement.get(type);
}

/** The datatype for a wire name ('FP32'), or undefined. */
export function datatypeFromWire(name: string): DatatypeInfo | undefined {
  return byWire.get(name);
}

/** The datatype for a config name ('TYPE_FP32'), or undefined (TYPE_INVALID included). */
export function datatypeFromConfig(name: string): DatatypeInfo | undefined {
  return byConfig.get(name);
}

/** The datatype for an ONNX TensorProto.DataType name ('FLOAT'), or undefined. */
export function datatypeFromOnnx(name: string): DatatypeInfo | undefined {
  return byOnnx.get(name);
}

/**
 * A typed array of element type `type` over `byteLength` bytes of `buffer` from offset 0: the one
 * table from element type to typed array, for both the primary and the worker side. Throws for
 * 'string' and names it does not know.
 */
export function typedArrayOver(type: string, buffer: ArrayBufferLike, byteLength: number): TypedArray {
  const Ctor = byElement.get(type)?.array;
  if (!Ctor) throw new Error(`tensor type '${type}' has no typed array`);
  return new Ctor(buffer, 0, byteLength / Ctor.BYTES_PER_ELEMENT);
}

export const ALL_DATATYPES: readonly DatatypeInfo[] = table;

/** Product of the dims (1 for a scalar). Dims must be non-negative integers. */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

// IEEE half and bfloat16 conversions, for JSON, which carries them as numbers.
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float → IEEE 754 binary16 bits, rounding to nearest even. */
export function floatToHalf(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf or NaN
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow to inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow to zero
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && (half & 1))) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half++;
  return sign | half;
}

/** IEEE 754 binary16 bits → float. */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** float → bfloat16 bits (the top half of the float32), rounding to nearest even. */
export function floatToBfloat(value: number): number {
  f32[0] = value;
  const x = u32[0];
  if (Number.isNaN(value)) return (x >>> 16) | 0x40;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** bfloat16 bits → float. */
export function bfloatToFloat(bits: number): number {
  u32[0] = (bits & 0xffff) << 16;
  return f32[0];
}
