/**
 * Encoding of the inference messages (grpc-infer-wire.ts has the field table): plain objects in
 * the loader's shape, any field left out, → bytes, written field by field with protobufjs's
 * Writer (sub-messages by fork/ldelim, which fills in their length once they are written).
 */
import protobuf from 'protobufjs';
import type { InferParameterMessage, ParameterMap, TensorContentsMessage } from './grpc-messages.ts';

type Writer = protobuf.Writer;

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LDELIM = 2;

const kChoices = [undefined, 'bool_param', 'int64_param', 'string_param', 'double_param', 'uint64_param'] as const;

/** A tensor as the encoders take it: the message shape, any field left out. */
interface TensorInput {
  readonly name?: string;
  readonly datatype?: string;
  readonly shape?: readonly (string | number | bigint)[];
  readonly parameters?: Readonly<ParameterMap> | null;
  readonly contents?: Readonly<Partial<TensorContentsMessage>> | null;
}

/** A ModelInferRequest as the encoder takes it (hand-made ones may leave fields out). */
export interface ModelInferRequestInput {
  readonly model_name?: string;
  readonly model_version?: string;
  readonly id?: string;
  readonly parameters?: Readonly<ParameterMap> | null;
  readonly inputs?: readonly TensorInput[];
  readonly outputs?: readonly { readonly name?: string; readonly parameters?: Readonly<ParameterMap> | null }[];
  readonly raw_input_contents?: readonly Uint8Array[];
}

/** A ModelInferResponse as the encoder takes it. */
interface ModelInferResponseInput {
  readonly model_name?: string;
  readonly model_version?: string;
  readonly id?: string;
  readonly parameters?: Readonly<ParameterMap> | null;
  readonly outputs?: readonly TensorInput[];
  readonly raw_output_contents?: readonly Uint8Array[];
}

/** A field's key. */
const key = (w: Writer, field: number, wireType: number): Writer => w.uint32((field << 3) | wireType);

function writeStringField(w: Writer, field: number, s: string | undefined): void {
  if (s) key(w, field, WIRE_LDELIM).string(s);
}

type Int64 = string | number | bigint;

const kDecimal = /^-?\d+$/;

/**
 * A 64-bit integer as Writer#int64 takes it: a number or a decimal string. protobufjs takes no
 * bigints, and writes NaN, or a string that is no decimal integer, as 0 or a part of it ('1.5' as
 * 1); BigInt converts the bigints and refuses the rest (a RangeError or SyntaxError).
 */
function int64Value(v: Int64): number | string {
  if (typeof v === 'number' ? Number.isFinite(v) : typeof v === 'string' && kDecimal.test(v)) return v as number | string;
  return BigInt(v).toString();
}

/** The member of a parameter that is set: the one named, else the first one present. */
function parameterChoice(p: InferParameterMessage): number {
  switch (p.parameter_choice) {
    case 'bool_param': return 1;
    case 'int64_param': return 2;
    case 'string_param': return 3;
    case 'double_param': return 4;
    case 'uint64_param': return 5;
    default:
      for (let f = 1; f <= 5; f++) if (p[kChoices[f]!] !== undefined && p[kChoices[f]!] !== null) return f;
      return 0;
  }
}

function writeParameter(w: Writer, p: InferParameterMessage): void {
  switch (parameterChoice(p)) {
    case 1: key(w, 1, WIRE_VARINT).bool(!!p.bool_param); return;
    case 2: key(w, 2, WIRE_VARINT).int64(int64Value(p.int64_param ?? 0)); return;
    case 3: key(w, 3, WIRE_LDELIM).string(String(p.string_param ?? '')); return;
    case 4: key(w, 4, WIRE_FIXED64).double(Number(p.double_param)); return;
    case 5: key(w, 5, WIRE_VARINT).uint64(int64Value(p.uint64_param ?? 0)); return;
  }
}

/** A map<string, InferParameter> field: one entry message (key 1, value 2) per name. */
function writeParameterMap(w: Writer, field: number, map: Readonly<ParameterMap> | null | undefined): void {
  if (!map) return;
  for (const name in map) {
    key(w, field, WIRE_LDELIM).fork();
    key(w, 1, WIRE_LDELIM).string(name);
    key(w, 2, WIRE_LDELIM).fork();
    writeParameter(w, map[name]);
    w.ldelim().ldelim();
  }
}

/** A packed run of 64-bit varints. */
function writePackedInt64(w: Writer, field: number, values: readonly Int64[]): void {
  key(w, field, WIRE_LDELIM).fork();
  for (let i = 0; i < values.length; i++) w.int64(int64Value(values[i]));
  w.ldelim();
}

function writeContents(w: Writer, c: Readonly<Partial<TensorContentsMessage>>): void {
  if (c.bool_contents?.length) key(w, 1, WIRE_LDELIM).bools(c.bool_contents);
  if (c.int_contents?.length) key(w, 2, WIRE_LDELIM).int32s(c.int_contents);
  if (c.int64_contents?.length) writePackedInt64(w, 3, c.int64_contents);
  if (c.uint_contents?.length) key(w, 4, WIRE_LDELIM).uint32s(c.uint_contents);
  if (c.uint64_contents?.length) writePackedInt64(w, 5, c.uint64_contents);
  if (c.fp32_contents?.length) key(w, 6, WIRE_LDELIM).floats(c.fp32_contents);
  if (c.fp64_contents?.length) key(w, 7, WIRE_LDELIM).doubles(c.fp64_contents);
  writeBytesFields(w, 8, c.bytes_contents);
}

function writeTensor(w: Writer, t: TensorInput): void {
  writeStringField(w, 1, t.name);
  writeStringField(w, 2, t.datatype);
  if (t.shape?.length) writePackedInt64(w, 3, t.shape);
  writeParameterMap(w, 4, t.parameters);
  if (t.contents) {
    key(w, 5, WIRE_LDELIM).fork();
    writeContents(w, t.contents);
    w.ldelim();
  }
}

/** A repeated message field: each item's body by `write`, behind its key and length. */
function writeMessages<T>(w: Writer, field: number, items: readonly T[] | undefined, write: (w: Writer, item: T) => void): void {
  for (const item of items ?? []) {
    key(w, field, WIRE_LDELIM).fork();
    write(w, item);
    w.ldelim();
  }
}

function writeBytesFields(w: Writer, field: number, list: readonly Uint8Array[] | undefined): void {
  for (const b of list ?? []) key(w, field, WIRE_LDELIM).bytes(b);
}

type Header = { readonly model_name?: string; readonly model_version?: string; readonly id?: string; readonly parameters?: Readonly<ParameterMap> | null };

function writeHeader(w: Writer, m: Header): void {
  writeStringField(w, 1, m.model_name);
  writeStringField(w, 2, m.model_version);
  writeStringField(w, 3, m.id);
  writeParameterMap(w, 4, m.parameters);
}

function writeRequestedOutput(w: Writer, o: { name?: string; parameters?: Readonly<ParameterMap> | null }): void {
  writeStringField(w, 1, o.name);
  writeParameterMap(w, 2, o.parameters);
}

function writeResponse(w: Writer, m: ModelInferResponseInput): void {
  writeHeader(w, m);
  writeMessages(w, 5, m.outputs, writeTensor);
  writeBytesFields(w, 6, m.raw_output_contents);
}

/**
 * A writer whose first buffer has room for `raw` (raw contents, written last) besides the
 * default: the Writer grows its buffer by doubling, copying what it holds each time, which for
 * large tensors would cost several times the one copy of them into the message.
 */
function writer(raw: readonly Uint8Array[] | null | undefined): Writer {
  let size = 0;
  for (const b of raw ?? []) size += 6 + b.length; // key, length (up to 5 bytes), bytes
  if (size === 0) return protobuf.Writer.create();
  const initial = protobuf.Writer.initialBufferSize;
  protobuf.Writer.initialBufferSize = initial + size;
  try {
    return protobuf.Writer.create();
  } finally {
    protobuf.Writer.initialBufferSize = initial;
  }
}

/**
 * The bytes written, as a view into the writer's buffer rather than a copy of them (the writer is
 * dropped). In Node the writer is a BufferWriter, so that is a Buffer.
 */
const finish = (w: Writer): Buffer => w.finish(true) as Buffer;

/** A ModelInferRequest as bytes. */
export function encodeModelInferRequest(m: ModelInferRequestInput): Buffer {
  const w = writer(m.raw_input_contents);
  writeHeader(w, m);
  writeMessages(w, 5, m.inputs, writeTensor);
  writeMessages(w, 6, m.outputs, writeRequestedOutput);
  writeBytesFields(w, 7, m.raw_input_contents);
  return finish(w);
}

/** A ModelInferResponse as bytes. */
export function encodeModelInferResponse(m: ModelInferResponseInput): Buffer {
  const w = writer(m.raw_output_contents);
  writeResponse(w, m);
  return finish(w);
}

/** A ModelStreamInferResponse as bytes. */
export function encodeModelStreamInferResponse(m: { readonly error_message?: string; readonly infer_response?: ModelInferResponseInput | null }): Buffer {
  const w = writer(m.infer_response?.raw_output_contents);
  writeStringField(w, 1, m.error_message);
  if (m.infer_response) writeMessages(w, 2, [m.infer_response], writeResponse);
  return finish(w);
}
