/**
 * Decoding of the inference messages (grpc-infer-wire.ts has the field table): bytes → the plain
 * objects @grpc/proto-loader gives with the options of grpc-proto.ts, read field by field with
 * protobufjs's Reader.
 */
import protobuf from 'protobufjs';
import type {
  InferInputTensorMessage,
  InferParameterMessage,
  ModelInferRequestMessage,
  ModelInferResponseMessage,
  ModelStreamInferResponseMessage,
  ParameterMap,
  RequestedOutputMessage,
  TensorContentsMessage,
} from './grpc-messages.ts';

type Reader = protobuf.Reader;

/**
 * Thrown when a request message holds more values than its reader was allowed to make: each
 * element of a repeated field becomes a JavaScript value (a bytes element a Buffer view of about
 * 100 bytes), so a 64 MiB message of 2-byte empty bytes elements would make 32M of them. The
 * reader counts as it goes and stops at the limit, before the values exist.
 */
export class MessageOverLimit extends RangeError {
  constructor(readonly limit: number) {
    super(`the request message holds more than ${limit} values (tensor elements, shape dims, tensors, parameters)`);
    this.name = 'MessageOverLimit';
  }
}

/** Values the message being read may still make (decoding is synchronous: one message at a time). */
let valuesLeft = Infinity;
let valuesLimit = Infinity;

/** Counts `n` values about to be made; throws MessageOverLimit past the limit. */
function count(n = 1): void {
  valuesLeft -= n;
  if (valuesLeft < 0) throw new MessageOverLimit(valuesLimit);
}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LDELIM = 2;
const WIRE_FIXED32 = 5;

/**
 * Reads the length-delimited field whose key was just read with `read`, which sees only its bytes:
 * the reader's end (`len`) is narrowed to theirs meanwhile, as protobufjs's generated decoders do,
 * so a read past them fails as a read past the message does.
 */
function sub<T>(r: Reader, read: (r: Reader) => T): T {
  const length = r.uint32(); // the field's length prefix, read before the position is taken
  const end = r.pos + length;
  if (end > r.len) throw new RangeError('message truncated');
  const len = r.len;
  r.len = end;
  const value = read(r);
  r.len = len;
  return value;
}

/** Skips the field whose key was just read (unknown, or of an unexpected wire type). */
function skip(r: Reader, key: number): void {
  const start = r.pos;
  r.skipType(key & 7, 0, key >>> 3);
  // skipType passes over a varint of any length; protobuf allows ten bytes at most.
  if ((key & 7) === WIRE_VARINT && r.pos - start > 10) throw new RangeError('invalid varint');
}

const k2Pow32 = 4294967296;

/** A 64-bit integer as protobufjs reads it (a Long) as a decimal string, exactly. */
function decimal(v: protobuf.Long): string {
  const lo = v.low >>> 0;
  const hi = v.high >>> 0;
  if (hi < 0x200000) return String(hi * k2Pow32 + lo); // below 2^53: exact as a double
  const bits = (BigInt(hi) << 32n) | BigInt(lo);
  return (v.unsigned ? bits : BigInt.asIntN(64, bits)).toString();
}

const readInt64 = (r: Reader): string => decimal(r.int64());
const readUint64 = (r: Reader): string => decimal(r.uint64());

/**
 * The elements of a repeated scalar field whose key was just read: a packed run when
 * length-delimited, else one element of `elementWire`. Parsers must accept both encodings.
 */
function repeated<T>(r: Reader, key: number, elementWire: number, read: (r: Reader) => T, into: T[]): void {
  const wire = key & 7;
  if (wire === WIRE_LDELIM) {
    sub(r, () => {
      while (r.pos < r.len) {
        count();
        into.push(read(r));
      }
    });
  } else if (wire === elementWire) {
    count();
    into.push(read(r));
  } else skip(r, key);
}

function readParameter(r: Reader): InferParameterMessage {
  let p: InferParameterMessage = {};
  while (r.pos < r.len) {
    const key = r.tag();
    // A oneof keeps the member read last.
    switch (key) {
      case (1 << 3) | WIRE_VARINT: p = { bool_param: r.bool(), parameter_choice: 'bool_param' }; break;
      case (2 << 3) | WIRE_VARINT: p = { int64_param: readInt64(r), parameter_choice: 'int64_param' }; break;
      case (3 << 3) | WIRE_LDELIM: p = { string_param: r.string(), parameter_choice: 'string_param' }; break;
      case (4 << 3) | WIRE_FIXED64: p = { double_param: r.double(), parameter_choice: 'double_param' }; break;
      case (5 << 3) | WIRE_VARINT: p = { uint64_param: readUint64(r), parameter_choice: 'uint64_param' }; break;
      default: skip(r, key);
    }
  }
  return p;
}

/** One map<string, InferParameter> entry into `map`. */
function readParameterEntry(r: Reader, map: ParameterMap): void {
  count();
  let name = '';
  let value: InferParameterMessage = {};
  while (r.pos < r.len) {
    const key = r.tag();
    if (key === ((1 << 3) | WIRE_LDELIM)) name = r.string();
    else if (key === ((2 << 3) | WIRE_LDELIM)) value = sub(r, readParameter);
    else skip(r, key);
  }
  map[name] = value;
}

const readBool = (r: Reader) => r.bool();
const readInt32 = (r: Reader) => r.int32();
const readUint32 = (r: Reader) => r.uint32();
const readFloat = (r: Reader) => r.float();
const readDouble = (r: Reader) => r.double();

function readContents(r: Reader): TensorContentsMessage {
  const c: TensorContentsMessage = {
    bool_contents: [], int_contents: [], int64_contents: [], uint_contents: [],
    uint64_contents: [], fp32_contents: [], fp64_contents: [], bytes_contents: [],
  };
  while (r.pos < r.len) {
    const key = r.tag();
    switch (key >>> 3) {
      case 1: repeated(r, key, WIRE_VARINT, readBool, c.bool_contents); break;
      case 2: repeated(r, key, WIRE_VARINT, readInt32, c.int_contents); break;
      case 3: repeated(r, key, WIRE_VARINT, readInt64, c.int64_contents as string[]); break;
      case 4: repeated(r, key, WIRE_VARINT, readUint32, c.uint_contents); break;
      case 5: repeated(r, key, WIRE_VARINT, readUint64, c.uint64_contents as string[]); break;
      case 6: repeated(r, key, WIRE_FIXED32, readFloat, c.fp32_contents); break;
      case 7: repeated(r, key, WIRE_FIXED64, readDouble, c.fp64_contents); break;
      case 8:
        if ((key & 7) === WIRE_LDELIM) {
          count();
          c.bytes_contents.push(r.bytes());
        }
        else skip(r, key);
        break;
      default: skip(r, key);
    }
  }
  return c;
}

/** An InferInputTensor or InferOutputTensor (the same fields). */
function readTensor(r: Reader): InferInputTensorMessage {
  count();
  const t: InferInputTensorMessage = { name: '', datatype: '', shape: [], parameters: {}, contents: null };
  while (r.pos < r.len) {
    const key = r.tag();
    switch (key) {
      case (1 << 3) | WIRE_LDELIM: t.name = r.string(); break;
      case (2 << 3) | WIRE_LDELIM: t.datatype = r.string(); break;
      case (3 << 3) | WIRE_LDELIM: case (3 << 3) | WIRE_VARINT: repeated(r, key, WIRE_VARINT, readInt64, t.shape as string[]); break;
      case (4 << 3) | WIRE_LDELIM: sub(r, (r) => readParameterEntry(r, t.parameters)); break;
      case (5 << 3) | WIRE_LDELIM: t.contents = sub(r, readContents); break;
      default: skip(r, key);
    }
  }
  return t;
}

function readRequestedOutput(r: Reader): RequestedOutputMessage {
  count();
  const o: RequestedOutputMessage = { name: '', parameters: {} };
  while (r.pos < r.len) {
    const key = r.tag();
    if (key === ((1 << 3) | WIRE_LDELIM)) o.name = r.string();
    else if (key === ((2 << 3) | WIRE_LDELIM)) sub(r, (r) => readParameterEntry(r, o.parameters));
    else skip(r, key);
  }
  return o;
}

/**
 * The header fields both messages share (1 to 4) into `m`; false for any other field, which the
 * caller reads.
 */
function readHeaderField(r: Reader, key: number, m: { model_name: string; model_version: string; id: string; parameters: ParameterMap }): boolean {
  switch (key) {
    case (1 << 3) | WIRE_LDELIM: m.model_name = r.string(); return true;
    case (2 << 3) | WIRE_LDELIM: m.model_version = r.string(); return true;
    case (3 << 3) | WIRE_LDELIM: m.id = r.string(); return true;
    case (4 << 3) | WIRE_LDELIM: sub(r, (r) => readParameterEntry(r, m.parameters)); return true;
    default: return false;
  }
}

/**
 * `read` over all of `buf`. protobufjs refuses malformed bytes with Errors of its own wording
 * ("index out of range: …" for a read past the end); they become RangeErrors, that one saying
 * "message truncated".
 */
function decode<T>(buf: Buffer, read: (r: Reader) => T, maxValues = Infinity): T {
  valuesLeft = maxValues;
  valuesLimit = maxValues;
  try {
    // The plain Reader, not the BufferReader that Reader.create makes for a Buffer: its strings
    // are decoded by a loop in JavaScript up to 64 bytes (names and datatypes are short, and the
    // BufferReader's native call costs more than the loop), and its bytes are still Buffer views.
    return read(new protobuf.Reader(buf));
  } catch (err) {
    if (err instanceof MessageOverLimit) throw err;
    const message = (err as Error).message;
    throw new RangeError(message.startsWith('index out of range') ? 'message truncated' : message);
  } finally {
    valuesLeft = Infinity;
    valuesLimit = Infinity;
  }
}

function readRequest(r: Reader): ModelInferRequestMessage {
  const m: ModelInferRequestMessage = { model_name: '', model_version: '', id: '', parameters: {}, inputs: [], outputs: [], raw_input_contents: [] };
  while (r.pos < r.len) {
    const key = r.tag();
    if (readHeaderField(r, key, m)) continue;
    if (key === ((5 << 3) | WIRE_LDELIM)) m.inputs.push(sub(r, readTensor));
    else if (key === ((6 << 3) | WIRE_LDELIM)) m.outputs.push(sub(r, readRequestedOutput));
    else if (key === ((7 << 3) | WIRE_LDELIM)) {
      count();
      m.raw_input_contents.push(r.bytes());
    }
    else skip(r, key);
  }
  return m;
}

function readResponse(r: Reader): ModelInferResponseMessage {
  const m: ModelInferResponseMessage = { model_name: '', model_version: '', id: '', parameters: {}, outputs: [], raw_output_contents: [] };
  while (r.pos < r.len) {
    const key = r.tag();
    if (readHeaderField(r, key, m)) continue;
    if (key === ((5 << 3) | WIRE_LDELIM)) m.outputs.push(sub(r, readTensor));
    else if (key === ((6 << 3) | WIRE_LDELIM)) m.raw_output_contents.push(r.bytes());
    else skip(r, key);
  }
  return m;
}

function readStreamResponse(r: Reader): ModelStreamInferResponseMessage {
  const m: ModelStreamInferResponseMessage = { error_message: '', infer_response: null };
  while (r.pos < r.len) {
    const key = r.tag();
    if (key === ((1 << 3) | WIRE_LDELIM)) m.error_message = r.string();
    else if (key === ((2 << 3) | WIRE_LDELIM)) m.infer_response = sub(r, readResponse);
    else skip(r, key);
  }
  return m;
}

/**
 * ModelInferRequest bytes → the plain message; throws a RangeError for malformed bytes, a
 * MessageOverLimit when it holds more than `maxValues` values. Bytes fields are views into `buf`
 * (Reader#bytes is Buffer#subarray on a Buffer: no copy).
 */
export function decodeModelInferRequest(buf: Buffer, maxValues = Infinity): ModelInferRequestMessage {
  return decode(buf, readRequest, maxValues);
}

/** ModelInferResponse bytes → the plain message; throws a RangeError for malformed bytes. */
export function decodeModelInferResponse(buf: Buffer): ModelInferResponseMessage {
  return decode(buf, readResponse);
}

/** ModelStreamInferResponse bytes → the plain message; throws a RangeError for malformed bytes. */
export function decodeModelStreamInferResponse(buf: Buffer): ModelStreamInferResponseMessage {
  return decode(buf, readStreamResponse);
}
