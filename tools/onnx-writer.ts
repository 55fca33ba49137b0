// Nereid's ONNX writer, for development only (example, test and benchmark models): builds a
// small ModelProto from plain objects. The schema and the element type codes are the reader's
// (src/model-config/onnx-model.ts), which the server ships.

import { ModelProto, ONNX_TYPE_CODES, type OnnxElemType } from '../src/model-config/onnx-model.ts';

export { onnxTypeCode, ONNX_TYPE_CODES, type OnnxElemType } from '../src/model-config/onnx-model.ts';

function isOnnxElemType(value: unknown): value is OnnxElemType {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ONNX_TYPE_CODES, value);
}

// ---------------------------------------------------------------------------
// Specs for writeModel

/** A graph input or output. A string dim is symbolic (dim_param, e.g. 'batch'). */
export interface ValueSpec {
  name: string;
  elemType: OnnxElemType;
  shape: (number | string)[];
}

/**
 * Tensor contents, row-major. Numbers for numeric types (integers for integer
 * types), numbers or bigints for INT64/UINT64, numbers or booleans for BOOL,
 * strings for STRING. For FLOAT16/BFLOAT16, numbers are rounded to the
 * 16-bit format, except that a Uint16Array is taken as the raw bit patterns.
 */
export type TensorData = ArrayLike<number | bigint | boolean> | readonly string[];

/** A constant tensor (a TENSOR attribute, or the body of an initializer). */
export interface TensorSpec {
  elemType: OnnxElemType;
  dims: number[];
  data: TensorData;
  name?: string;
}

/** A named constant of the graph, stored as raw_data little-endian (string_data for STRING). */
export interface InitializerSpec extends TensorSpec {
  name: string;
}

/** An attribute with its AttributeType spelled out, for values whose JS form is ambiguous. */
export type TypedAttribute =
  | { type: 'FLOAT'; value: number }
  | { type: 'INT'; value: number | bigint }
  | { type: 'STRING'; value: string | Uint8Array }
  | { type: 'TENSOR'; value: TensorSpec }
  | { type: 'FLOATS'; value: ArrayLike<number> }
  | { type: 'INTS'; value: ArrayLike<number | bigint> }
  | { type: 'STRINGS'; value: readonly (string | Uint8Array)[] }
  | { type: 'TENSORS'; value: readonly TensorSpec[] };

/**
 * An attribute value. The AttributeType is picked from the JS value:
 * an integer number or a bigint is INT, any other number FLOAT, a string STRING,
 * a TensorSpec TENSOR; an array of integers (or an integer typed array) INTS,
 * an array with a non-integer number (or a Float32Array/Float64Array) FLOATS,
 * an array of strings STRINGS, an array of TensorSpecs TENSORS.
 * For the ambiguous cases (a float that happens to be whole, an empty list)
 * use the explicit form, e.g. `{ type: 'FLOAT', value: 1 }` or `attr.float(1)`.
 */
export type AttributeValue =
  | number
  | bigint
  | string
  | readonly (number | bigint)[]
  | readonly string[]
  | readonly TensorSpec[]
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | TensorSpec
  | TypedAttribute;

/** Helpers for explicit attribute types. */
export const attr = {
  float: (value: number): TypedAttribute => ({ type: 'FLOAT', value }),
  int: (value: number | bigint): TypedAttribute => ({ type: 'INT', value }),
  string: (value: string | Uint8Array): TypedAttribute => ({ type: 'STRING', value }),
  tensor: (value: TensorSpec): TypedAttribute => ({ type: 'TENSOR', value }),
  floats: (value: ArrayLike<number>): TypedAttribute => ({ type: 'FLOATS', value }),
  ints: (value: ArrayLike<number | bigint>): TypedAttribute => ({ type: 'INTS', value }),
  strings: (value: readonly (string | Uint8Array)[]): TypedAttribute => ({ type: 'STRINGS', value }),
  tensors: (value: readonly TensorSpec[]): TypedAttribute => ({ type: 'TENSORS', value }),
} as const;

export interface NodeSpec {
  opType: string;
  inputs: string[];
  outputs: string[];
  /** Defaults to `<opType>_<index in nodes>`. */
  name?: string;
  /** Operator set domain; '' (the default) is the standard ai.onnx domain. */
  domain?: string;
  attributes?: Record<string, AttributeValue>;
}

export interface ModelSpec {
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  nodes: NodeSpec[];
  initializers?: InitializerSpec[];
  /** ai.onnx opset version, default 17. */
  opset?: number;
  /** IR version, default 8. */
  irVersion?: number;
  /** Default 'nereid'. */
  producerName?: string;
  /** Graph name, default 'main'. */
  graphName?: string;
}

// ---------------------------------------------------------------------------
// Writing

const ATTRIBUTE_TYPE_CODES = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
} as const;

type PlainObject = Record<string, unknown>;

const textEncoder = new TextEncoder();

interface LongLike { low: number; high: number; unsigned: boolean }

function int64Value(v: number | bigint, what: string): number | LongLike {
  if (typeof v === 'bigint') {
    if (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
    if (v < -(2n ** 63n) || v >= 2n ** 64n) throw new RangeError(`${what}: ${v} does not fit in 64 bits`);
    const bits = BigInt.asUintN(64, v);
    return { low: Number(bits & 0xffffffffn) | 0, high: Number(bits >> 32n) | 0, unsigned: v >= 2n ** 63n };
  }
  if (!Number.isSafeInteger(v)) throw new RangeError(`${what}: ${v} is not a safe integer`);
  return v;
}

function elementCount(dims: readonly number[], what: string): number {
  let n = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`${what}: bad dimension ${d}`);
    n *= d;
  }
  return n;
}

/** float32 value -> IEEE 754 binary16 bits, round to nearest even. */
function toFloat16Bits(value: number): number {
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0); // inf / nan
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow -> inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow -> signed zero
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let bits = mant >>> shift;
    if (rest > half || (rest === half && (bits & 1) !== 0)) bits += 1;
    return sign | bits;
  }
  let bits = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (bits & 1) !== 0)) bits += 1; // may carry into the exponent: still right
  return sign | bits;
}

/** float32 value -> bfloat16 bits, round to nearest even. */
function toBfloat16Bits(value: number): number {
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  f32[0] = value;
  const x = u32[0];
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) return ((x >>> 16) | 0x40) & 0xffff; // nan
  const rounded = x + 0x7fff + ((x >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function tensorProto(spec: TensorSpec, what: string): PlainObject {
  if (!isOnnxElemType(spec.elemType)) throw new Error(`${what}: unknown element type '${String(spec.elemType)}'`);
  const count = elementCount(spec.dims, what);
  const data = spec.data;
  if (data.length !== count) {
    throw new RangeError(`${what}: dims [${spec.dims.join(', ')}] need ${count} elements, data has ${data.length}`);
  }
  const out: PlainObject = {
    dims: spec.dims.map((d) => d),
    data_type: ONNX_TYPE_CODES[spec.elemType],
  };
  if (spec.name !== undefined) out.name = spec.name;

  if (spec.elemType === 'STRING') {
    out.string_data = Array.from(data as ArrayLike<unknown>, (s, i) => {
      if (typeof s !== 'string') throw new TypeError(`${what}: element ${i} of a STRING tensor is not a string`);
      return textEncoder.encode(s);
    });
    return out;
  }

  // Large float weights (bench models): take the bytes as they are on this little-endian host.
  if (spec.elemType === 'FLOAT' && data instanceof Float32Array && littleEndian) {
    out.raw_data = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return out;
  }

  const size: Record<Exclude<OnnxElemType, 'STRING'>, number> = {
    FLOAT: 4, UINT8: 1, INT8: 1, UINT16: 2, INT16: 2, INT32: 4, INT64: 8,
    BOOL: 1, FLOAT16: 2, DOUBLE: 8, UINT32: 4, UINT64: 8, BFLOAT16: 2,
  };
  const width = size[spec.elemType];
  const raw = new Uint8Array(count * width);
  const view = new DataView(raw.buffer);
  const rawBits = data instanceof Uint16Array;
  for (let i = 0; i < count; i++) {
    const v = (data as ArrayLike<unknown>)[i];
    const at = i * width;
    const num = (): number => {
      if (typeof v === 'number') return v;
      if (typeof v === 'bigint') return Number(v);
      if (typeof v === 'boolean') return v ? 1 : 0;
      throw new TypeError(`${what}: element ${i} is not a number`);
    };
    const int = (lo: number, hi: number): number => {
      const n = num();
      if (!Number.isInteger(n) || n < lo || n > hi) {
        throw new RangeError(`${what}: element ${i} (${n}) is not a ${spec.elemType} value`);
      }
      return n;
    };
    const big = (): bigint => {
      if (typeof v === 'bigint') return v;
      const n = num();
      if (!Number.isSafeInteger(n)) throw new RangeError(`${what}: element ${i} (${n}) is not a safe integer`);
      return BigInt(n);
    };
    switch (spec.elemType) {
      case 'FLOAT': view.setFloat32(at, num(), true); break;
      case 'DOUBLE': view.setFloat64(at, num(), true); break;
      case 'UINT8': view.setUint8(at, int(0, 0xff)); break;
      case 'INT8': view.setInt8(at, int(-0x80, 0x7f)); break;
      case 'UINT16': view.setUint16(at, int(0, 0xffff), true); break;
      case 'INT16': view.setInt16(at, int(-0x8000, 0x7fff), true); break;
      case 'UINT32': view.setUint32(at, int(0, 0xffffffff), true); break;
      case 'INT32': view.setInt32(at, int(-0x80000000, 0x7fffffff), true); break;
      case 'INT64': view.setBigInt64(at, BigInt.asIntN(64, big()), true); break;
      case 'UINT64': view.setBigUint64(at, BigInt.asUintN(64, big()), true); break;
      case 'BOOL': view.setUint8(at, num() ? 1 : 0); break;
      case 'FLOAT16': view.setUint16(at, rawBits ? (v as number) : toFloat16Bits(num()), true); break;
      case 'BFLOAT16': view.setUint16(at, rawBits ? (v as number) : toBfloat16Bits(num()), true); break;
    }
  }
  out.raw_data = raw;
  return out;
}

function isTensorSpec(v: unknown): v is TensorSpec {
  return typeof v === 'object' && v !== null && 'elemType' in v && 'dims' in v && 'data' in v;
}

function isTypedAttribute(v: unknown): v is TypedAttribute {
  return typeof v === 'object' && v !== null && !isTensorSpec(v) && 'type' in v && 'value' in v;
}

function inferAttribute(name: string, value: AttributeValue, what: string): TypedAttribute {
  if (isTypedAttribute(value)) return value;
  if (isTensorSpec(value)) return { type: 'TENSOR', value };
  if (typeof value === 'number') {
    return Number.isInteger(value) ? { type: 'INT', value } : { type: 'FLOAT', value };
  }
  if (typeof value === 'bigint') return { type: 'INT', value };
  if (typeof value === 'string') return { type: 'STRING', value };
  if (value instanceof Float32Array || value instanceof Float64Array) return { type: 'FLOATS', value };
  if (value instanceof BigInt64Array || value instanceof BigUint64Array) return { type: 'INTS', value };
  if (ArrayBuffer.isView(value)) return { type: 'INTS', value: value as ArrayLike<number> };
  if (Array.isArray(value)) {
    const items = value as readonly unknown[];
    if (items.length === 0) {
      throw new TypeError(`${what}: attribute '${name}' is an empty list; use attr.ints([]), attr.floats([]) ...`);
    }
    if (items.every((x) => typeof x === 'string')) return { type: 'STRINGS', value: items as string[] };
    if (items.every((x) => typeof x === 'bigint' || (typeof x === 'number' && Number.isInteger(x)))) {
      return { type: 'INTS', value: items as readonly (number | bigint)[] };
    }
    if (items.every((x) => typeof x === 'number')) return { type: 'FLOATS', value: items as number[] };
    if (items.every(isTensorSpec)) return { type: 'TENSORS', value: items as TensorSpec[] };
  }
  throw new TypeError(`${what}: cannot tell the type of attribute '${name}'; use the { type, value } form`);
}

function attributeProto(name: string, value: AttributeValue, what: string): PlainObject {
  const a = inferAttribute(name, value, what);
  const where = `${what} attribute '${name}'`;
  const out: PlainObject = { name, type: ATTRIBUTE_TYPE_CODES[a.type] };
  if (out.type === undefined) throw new TypeError(`${where}: unsupported attribute type '${String(a.type)}'`);
  const bytes = (s: string | Uint8Array): Uint8Array => (typeof s === 'string' ? textEncoder.encode(s) : s);
  switch (a.type) {
    case 'FLOAT': out.f = a.value; break;
    case 'INT': out.i = int64Value(a.value, where); break;
    case 'STRING': out.s = bytes(a.value); break;
    case 'TENSOR': out.t = tensorProto(a.value, where); break;
    case 'FLOATS': out.floats = Array.from(a.value); break;
    case 'INTS': out.ints = Array.from(a.value, (x) => int64Value(x, where)); break;
    case 'STRINGS': out.strings = a.value.map(bytes); break;
    case 'TENSORS': out.tensors = a.value.map((t, i) => tensorProto(t, `${where}[${i}]`)); break;
  }
  return out;
}

function valueInfoProto(v: ValueSpec, what: string): PlainObject {
  if (!v.name) throw new Error(`${what}: a value needs a name`);
  if (!isOnnxElemType(v.elemType)) throw new Error(`${what} '${v.name}': unknown element type '${String(v.elemType)}'`);
  return {
    name: v.name,
    type: {
      tensor_type: {
        elem_type: ONNX_TYPE_CODES[v.elemType],
        shape: {
          dim: v.shape.map((d) => {
            if (typeof d === 'string') return { dim_param: d };
            if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`${what} '${v.name}': bad dimension ${d}`);
            return { dim_value: d };
          }),
        },
      },
    },
  };
}

/** Serialises a single-graph ONNX model. Deterministic: the same spec gives the same bytes. */
export function writeModel(spec: ModelSpec): Uint8Array {
  const nodes = spec.nodes.map((n, index) => {
    const what = `node ${index} (${n.opType})`;
    const node: PlainObject = {
      input: [...n.inputs],
      output: [...n.outputs],
      name: n.name ?? `${n.opType}_${index}`,
      op_type: n.opType,
      attribute: Object.entries(n.attributes ?? {}).map(([k, v]) => attributeProto(k, v, what)),
    };
    if (n.domain) node.domain = n.domain;
    return node;
  });
  const model: PlainObject = {
    ir_version: spec.irVersion ?? 8,
    producer_name: spec.producerName ?? 'nereid',
    opset_import: [{ domain: '', version: spec.opset ?? 17 }],
    graph: {
      node: nodes,
      name: spec.graphName ?? 'main',
      initializer: (spec.initializers ?? []).map((t) => tensorProto(t, `initializer '${t.name}'`)),
      input: spec.inputs.map((v) => valueInfoProto(v, 'input')),
      output: spec.outputs.map((v) => valueInfoProto(v, 'output')),
    },
  };
  const problem = ModelProto.verify(model);
  if (problem) throw new Error(`writeModel: ${problem}`);
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

