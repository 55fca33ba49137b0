/**
 * Decoding of the inference messages (grpc-infer-wire.ts has the field table): bytes → the plain
 * objects @grpc/proto-loader gives with the options of grpc-proto.ts.
 */
import { ProtoReader, WIRE_FIXED32, WIRE_FIXED64, WIRE_LDELIM, WIRE_VARINT } from './protobuf-wire.ts';
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

function readParameter(r: ProtoReader): InferParameterMessage {
  let p: InferParameterMessage = {};
  while (r.pos < r.end) {
    const key = r.tag();
    const field = key >>> 3;
    const wire = key & 7;
    // A oneof keeps the member read last.
    if (field === 1 && wire === WIRE_VARINT) p = { bool_param: r.bool(), parameter_choice: 'bool_param' };
    else if (field === 2 && wire === WIRE_VARINT) p = { int64_param: r.int64(), parameter_choice: 'int64_param' };
    else if (field === 3 && wire === WIRE_LDELIM) p = { string_param: r.string(), parameter_choice: 'string_param' };
    else if (field === 4 && wire === WIRE_FIXED64) p = { double_param: r.double(), parameter_choice: 'double_param' };
    else if (field === 5 && wire === WIRE_VARINT) p = { uint64_param: r.uint64(), parameter_choice: 'uint64_param' };
    else r.skip(wire, field);
  }
  return p;
}

/** One map<string, InferParameter> entry into `map`. */
function readParameterEntry(r: ProtoReader, map: ParameterMap): void {
  let name = '';
  let value: InferParameterMessage = {};
  while (r.pos < r.end) {
    const key = r.tag();
    if (key === ((1 << 3) | WIRE_LDELIM)) name = r.string();
    else if (key === ((2 << 3) | WIRE_LDELIM)) value = readParameter(r.sub());
    else r.skip(key & 7, key >>> 3);
  }
  map[name] = value;
}

const readBool = (r: ProtoReader) => r.bool();
const readInt32 = (r: ProtoReader) => r.int32();
const readInt64 = (r: ProtoReader) => r.int64();
const readUint32 = (r: ProtoReader) => r.uint32();
const readUint64 = (r: ProtoReader) => r.uint64();
const readFloat = (r: ProtoReader) => r.float();
const readDouble = (r: ProtoReader) => r.double();

function readContents(r: ProtoReader): TensorContentsMessage {
  const c: TensorContentsMessage = {
    bool_contents: [], int_contents: [], int64_contents: [], uint_contents: [],
    uint64_contents: [], fp32_contents: [], fp64_contents: [], bytes_contents: [],
  };
  while (r.pos < r.end) {
    const key = r.tag();
    const wire = key & 7;
    switch (key >>> 3) {
      case 1: r.repeated(wire, WIRE_VARINT, readBool, c.bool_contents); break;
      case 2: r.repeated(wire, WIRE_VARINT, readInt32, c.int_contents); break;
      case 3: r.repeated(wire, WIRE_VARINT, readInt64, c.int64_contents as string[]); break;
      case 4: r.repeated(wire, WIRE_VARINT, readUint32, c.uint_contents); break;
      case 5: r.repeated(wire, WIRE_VARINT, readUint64, c.uint64_contents as string[]); break;
      case 6: r.repeated(wire, WIRE_FIXED32, readFloat, c.fp32_contents); break;
      case 7: r.repeated(wire, WIRE_FIXED64, readDouble, c.fp64_contents); break;
      case 8:
        if (wire === WIRE_LDELIM) c.bytes_contents.push(r.bytes());
        else r.skip(wire, 8);
        break;
      default: r.skip(wire, key >>> 3);
    }
  }
  return c;
}

/** An InferInputTensor or InferOutputTensor (the same fields). */
function readTensor(r: ProtoReader): InferInputTensorMessage {
  const t: InferInputTensorMessage = { name: '', datatype: '', shape: [], parameters: {}, contents: null };
  while (r.pos < r.end) {
    const key = r.tag();
    const wire = key & 7;
    switch (key >>> 3) {
      case 1: if (wire === WIRE_LDELIM) t.name = r.string(); else r.skip(wire, 1); break;
      case 2: if (wire === WIRE_LDELIM) t.datatype = r.string(); else r.skip(wire, 2); break;
      case 3: r.repeated(wire, WIRE_VARINT, readInt64, t.shape as string[]); break;
      case 4: if (wire === WIRE_LDELIM) readParameterEntry(r.sub(), t.parameters); else r.skip(wire, 4); break;
      case 5: if (wire === WIRE_LDELIM) t.contents = readContents(r.sub()); else r.skip(wire, 5); break;
      default: r.skip(wire, key >>> 3);
    }
  }
  return t;
}

function readRequestedOutput(r: ProtoReader): RequestedOutputMessage {
  const o: RequestedOutputMessage = { name: '', parameters: {} };
  while (r.pos < r.end) {
    const key = r.tag();
    if (key === ((1 << 3) | WIRE_LDELIM)) o.name = r.string();
    else if (key === ((2 << 3) | WIRE_LDELIM)) readParameterEntry(r.sub(), o.parameters);
    else r.skip(key & 7, key >>> 3);
  }
  return o;
}

/**
 * The header fields both messages share (1 to 4) into `m`; false for any other field, which the
 * caller reads.
 */
function readHeaderField(r: ProtoReader, key: number, m: { model_name: string; model_version: string; id: string; parameters: ParameterMap }): boolean {
  switch (key) {
    case (1 << 3) | WIRE_LDELIM: m.model_name = r.string(); return true;
    case (2 << 3) | WIRE_LDELIM: m.model_version = r.string(); return true;
    case (3 << 3) | WIRE_LDELIM: m.id = r.string(); return true;
    case (4 << 3) | WIRE_LDELIM: readParameterEntry(r.sub(), m.parameters); return true;
    default: return false;
  }
}

/** ModelInferRequest bytes → the plain message; throws a RangeError for malformed bytes. */
export function decodeModelInferRequest(buf: Buffer): ModelInferRequestMessage {
  const r = new ProtoReader(buf);
  const m: ModelInferRequestMessage = { model_name: '', model_version: '', id: '', parameters: {}, inputs: [], outputs: [], raw_input_contents: [] };
  while (r.pos < r.end) {
    const key = r.tag();
    if (readHeaderField(r, key, m)) continue;
    if (key === ((5 << 3) | WIRE_LDELIM)) m.inputs.push(readTensor(r.sub()));
    else if (key === ((6 << 3) | WIRE_LDELIM)) m.outputs.push(readRequestedOutput(r.sub()));
    else if (key === ((7 << 3) | WIRE_LDELIM)) m.raw_input_contents.push(r.bytes());
    else r.skip(key & 7, key >>> 3);
  }
  return m;
}

function readResponse(r: ProtoReader): ModelInferResponseMessage {
  const m: ModelInferResponseMessage = { model_name: '', model_version: '', id: '', parameters: {}, outputs: [], raw_output_contents: [] };
  while (r.pos < r.end) {
    const key = r.tag();
    if (readHeaderField(r, key, m)) continue;
    if (key === ((5 << 3) | WIRE_LDELIM)) m.outputs.push(readTensor(r.sub()));
    else if (key === ((6 << 3) | WIRE_LDELIM)) m.raw_output_contents.push(r.bytes());
    else r.skip(key & 7, key >>> 3);
  }
  return m;
}

/** ModelInferResponse bytes → the plain message; throws a RangeError for malformed bytes. */
export function decodeModelInferResponse(buf: Buffer): ModelInferResponseMessage {
  return readResponse(new ProtoReader(buf));
}

/** ModelStreamInferResponse bytes → the plain message; throws a RangeError for malformed bytes. */
export function decodeModelStreamInferResponse(buf: Buffer): ModelStreamInferResponseMessage {
  const r = new ProtoReader(buf);
  const m: ModelStreamInferResponseMessage = { error_message: '', infer_response: null };
  while (r.pos < r.end) {
    const key = r.tag();
    if (key === ((1 << 3) | WIRE_LDELIM)) m.error_message = r.string();
    else if (key === ((2 << 3) | WIRE_LDELIM)) m.infer_response = readResponse(r.sub());
    else r.skip(key & 7, key >>> 3);
  }
  return m;
}
