/**
 * Encoding of the inference messages (grpc-infer-wire.ts has the field table): plain objects in
 * the loader's shape, any field left out, → bytes of exactly the right size.
 */
import { int64Halves, ProtoWriter, utf8Length, varint64Size, varintSize, WIRE_FIXED64, WIRE_LDELIM, WIRE_VARINT } from './protobuf-wire.ts';
import type { InferParameterMessage, ParameterMap, TensorContentsMessage } from './grpc-messages.ts';

const kChoices = [undefined, 'bool_param', 'int64_param', 'string_param', 'double_param', 'uint64_param'] as const;

// Two passes over the message: the first sums sizes and records, in visiting order, the length
// of every length-delimited part whose length is not at hand (sub-messages, packed runs,
// strings); the second writes into a buffer of exactly that size, taking the lengths in the
// same order. So each part is measured once and the bytes are written once.

/** A tensor as the encoders take it: the message shape, any field left out. */
export interface TensorInput {
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
export interface ModelInferResponseInput {
  readonly model_name?: string;
  readonly model_version?: string;
  readonly id?: string;
  readonly parameters?: Readonly<ParameterMap> | null;
  readonly outputs?: readonly TensorInput[];
  readonly raw_output_contents?: readonly Uint8Array[];
}

type Lengths = number[];

/** Size of a string field (key, length, bytes), its byte length recorded; 0 when empty. */
function stringFieldSize(s: string | undefined, lengths: Lengths): number {
  if (!s) return 0;
  const n = utf8Length(s);
  lengths.push(n);
  return 1 + varintSize(n) + n;
}

function writeStringField(w: ProtoWriter, field: number, s: string | undefined, lengths: Lengths, at: { i: number }): void {
  if (!s) return;
  w.key(field, WIRE_LDELIM);
  w.string(s, lengths[at.i++]);
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

/** Body size of one InferParameter. */
function parameterSize(p: InferParameterMessage, lengths: Lengths): number {
  switch (parameterChoice(p)) {
    case 1: return 2;
    case 2: { const [lo, hi] = int64Halves(p.int64_param ?? 0); return 1 + varint64Size(lo, hi); }
    case 3: { const n = utf8Length(String(p.string_param ?? '')); lengths.push(n); return 1 + varintSize(n) + n; }
    case 4: return 9;
    case 5: { const [lo, hi] = int64Halves(p.uint64_param ?? 0); return 1 + varint64Size(lo, hi); }
    default: return 0;
  }
}

function writeParameter(w: ProtoWriter, p: InferParameterMessage, lengths: Lengths, at: { i: number }): void {
  const choice = parameterChoice(p);
  switch (choice) {
    case 1: w.key(1, WIRE_VARINT); w.varint(p.bool_param ? 1 : 0); return;
    case 2: case 5: {
      const [lo, hi] = int64Halves((choice === 2 ? p.int64_param : p.uint64_param) ?? 0);
      w.key(choice, WIRE_VARINT);
      w.varint64(lo, hi);
      return;
    }
    case 3: w.key(3, WIRE_LDELIM); w.string(String(p.string_param ?? ''), lengths[at.i++]); return;
    case 4: w.key(4, WIRE_FIXED64); w.double(Number(p.double_param)); return;
  }
}

/** Size of a map<string, InferParameter> field (every entry with its key). */
function parameterMapSize(map: Readonly<ParameterMap> | null | undefined, lengths: Lengths): number {
  if (!map) return 0;
  let size = 0;
  for (const name in map) {
    const entryAt = lengths.length;
    lengths.push(0);
    const keyLen = utf8Length(name);
    lengths.push(keyLen);
    const valueAt = lengths.length;
    lengths.push(0);
    const value = parameterSize(map[name], lengths);
    lengths[valueAt] = value;
    const entry = 1 + varintSize(keyLen) + keyLen + 1 + varintSize(value) + value;
    lengths[entryAt] = entry;
    size += 1 + varintSize(entry) + entry;
  }
  return size;
}

function writeParameterMap(w: ProtoWriter, field: number, map: Readonly<ParameterMap> | null | undefined, lengths: Lengths, at: { i: number }): void {
  if (!map) return;
  for (const name in map) {
    w.key(field, WIRE_LDELIM);
    w.varint(lengths[at.i++]);
    w.key(1, WIRE_LDELIM);
    w.string(name, lengths[at.i++]);
    w.key(2, WIRE_LDELIM);
    w.varint(lengths[at.i++]);
    writeParameter(w, map[name], lengths, at);
  }
}

type Int64 = string | number | bigint;

/** Body size of a packed run of 64-bit varints. */
function packedInt64Size(values: readonly Int64[]): number {
  let size = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === 'number' && v >= 0 && v <= Number.MAX_SAFE_INTEGER && Number.isInteger(v)) size += varintSize(v);
    else { const [lo, hi] = int64Halves(v); size += varint64Size(lo, hi); }
  }
  return size;
}

function writePackedInt64(w: ProtoWriter, values: readonly Int64[]): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === 'number' && v >= 0 && v <= Number.MAX_SAFE_INTEGER && Number.isInteger(v)) w.varint(v);
    else { const [lo, hi] = int64Halves(v); w.varint64(lo, hi); }
  }
}

const int32Size = (v: number): number => { const n = v | 0; return n < 0 ? 10 : varintSize(n); };

/** Body size of InferTensorContents; records each packed run's length. */
function contentsSize(c: Readonly<Partial<TensorContentsMessage>>, lengths: Lengths): number {
  let size = 0;
  const packed = (n: number) => {
    lengths.push(n);
    size += 1 + varintSize(n) + n;
  };
  if (c.bool_contents?.length) packed(c.bool_contents.length);
  if (c.int_contents?.length) { let n = 0; for (const v of c.int_contents) n += int32Size(v); packed(n); }
  if (c.int64_contents?.length) packed(packedInt64Size(c.int64_contents));
  if (c.uint_contents?.length) { let n = 0; for (const v of c.uint_contents) n += varintSize(v >>> 0); packed(n); }
  if (c.uint64_contents?.length) packed(packedInt64Size(c.uint64_contents));
  if (c.fp32_contents?.length) packed(4 * c.fp32_contents.length);
  if (c.fp64_contents?.length) packed(8 * c.fp64_contents.length);
  for (const b of c.bytes_contents ?? []) size += 1 + varintSize(b.length) + b.length;
  return size;
}

function writeContents(w: ProtoWriter, c: Readonly<Partial<TensorContentsMessage>>, lengths: Lengths, at: { i: number }): void {
  const start = (field: number) => {
    w.key(field, WIRE_LDELIM);
    w.varint(lengths[at.i++]);
  };
  if (c.bool_contents?.length) { start(1); for (const v of c.bool_contents) w.buf[w.pos++] = v ? 1 : 0; }
  if (c.int_contents?.length) {
    start(2);
    for (const v of c.int_contents) { const n = v | 0; if (n < 0) w.varint64(n >>> 0, 0xffffffff); else w.varint(n); }
  }
  if (c.int64_contents?.length) { start(3); writePackedInt64(w, c.int64_contents); }
  if (c.uint_contents?.length) { start(4); for (const v of c.uint_contents) w.varint(v >>> 0); }
  if (c.uint64_contents?.length) { start(5); writePackedInt64(w, c.uint64_contents); }
  if (c.fp32_contents?.length) { start(6); for (const v of c.fp32_contents) w.float(Number(v)); }
  if (c.fp64_contents?.length) { start(7); for (const v of c.fp64_contents) w.double(Number(v)); }
  for (const b of c.bytes_contents ?? []) { w.key(8, WIRE_LDELIM); w.bytes(b); }
}

/** Body size of an input or output tensor. */
function tensorSize(t: TensorInput, lengths: Lengths): number {
  let size = stringFieldSize(t.name, lengths) + stringFieldSize(t.datatype, lengths);
  if (t.shape?.length) {
    const n = packedInt64Size(t.shape);
    lengths.push(n);
    size += 1 + varintSize(n) + n;
  }
  size += parameterMapSize(t.parameters, lengths);
  if (t.contents) {
    const at = lengths.length;
    lengths.push(0);
    const n = contentsSize(t.contents, lengths);
    lengths[at] = n;
    size += 1 + varintSize(n) + n;
  }
  return size;
}

function writeTensor(w: ProtoWriter, t: TensorInput, lengths: Lengths, at: { i: number }): void {
  writeStringField(w, 1, t.name, lengths, at);
  writeStringField(w, 2, t.datatype, lengths, at);
  if (t.shape?.length) {
    w.key(3, WIRE_LDELIM);
    w.varint(lengths[at.i++]);
    writePackedInt64(w, t.shape);
  }
  writeParameterMap(w, 4, t.parameters, lengths, at);
  if (t.contents) {
    w.key(5, WIRE_LDELIM);
    w.varint(lengths[at.i++]);
    writeContents(w, t.contents, lengths, at);
  }
}

/** Size of a repeated message field whose items have `bodySize`. */
function messagesSize<T>(items: readonly T[] | undefined, lengths: Lengths, bodySize: (item: T, lengths: Lengths) => number): number {
  let size = 0;
  for (const item of items ?? []) {
    const at = lengths.length;
    lengths.push(0);
    const n = bodySize(item, lengths);
    lengths[at] = n;
    size += 1 + varintSize(n) + n;
  }
  return size;
}

function writeMessages<T>(w: ProtoWriter, field: number, items: readonly T[] | undefined, lengths: Lengths, at: { i: number }, write: (w: ProtoWriter, item: T, lengths: Lengths, at: { i: number }) => void): void {
  for (const item of items ?? []) {
    w.key(field, WIRE_LDELIM);
    w.varint(lengths[at.i++]);
    write(w, item, lengths, at);
  }
}

function bytesFieldsSize(list: readonly Uint8Array[] | undefined): number {
  let size = 0;
  for (const b of list ?? []) size += 1 + varintSize(b.length) + b.length;
  return size;
}

type Header = { readonly model_name?: string; readonly model_version?: string; readonly id?: string; readonly parameters?: Readonly<ParameterMap> | null };

function headerSize(m: Header, lengths: Lengths): number {
  return stringFieldSize(m.model_name, lengths) + stringFieldSize(m.model_version, lengths) + stringFieldSize(m.id, lengths) + parameterMapSize(m.parameters, lengths);
}

function writeHeader(w: ProtoWriter, m: Header, lengths: Lengths, at: { i: number }): void {
  writeStringField(w, 1, m.model_name, lengths, at);
  writeStringField(w, 2, m.model_version, lengths, at);
  writeStringField(w, 3, m.id, lengths, at);
  writeParameterMap(w, 4, m.parameters, lengths, at);
}

const requestedOutputSize = (o: { name?: string; parameters?: Readonly<ParameterMap> | null }, lengths: Lengths): number =>
  stringFieldSize(o.name, lengths) + parameterMapSize(o.parameters, lengths);

function writeRequestedOutput(w: ProtoWriter, o: { name?: string; parameters?: Readonly<ParameterMap> | null }, lengths: Lengths, at: { i: number }): void {
  writeStringField(w, 1, o.name, lengths, at);
  writeParameterMap(w, 2, o.parameters, lengths, at);
}

/** A ModelInferRequest as bytes. */
export function encodeModelInferRequest(m: ModelInferRequestInput): Buffer {
  const lengths: Lengths = [];
  const size = headerSize(m, lengths) + messagesSize(m.inputs, lengths, tensorSize)
    + messagesSize(m.outputs, lengths, requestedOutputSize) + bytesFieldsSize(m.raw_input_contents);
  const w = new ProtoWriter(Buffer.allocUnsafe(size));
  const at = { i: 0 };
  writeHeader(w, m, lengths, at);
  writeMessages(w, 5, m.inputs, lengths, at, writeTensor);
  writeMessages(w, 6, m.outputs, lengths, at, writeRequestedOutput);
  for (const b of m.raw_input_contents ?? []) { w.key(7, WIRE_LDELIM); w.bytes(b); }
  return w.buf;
}

function responseSize(m: ModelInferResponseInput, lengths: Lengths): number {
  return headerSize(m, lengths) + messagesSize(m.outputs, lengths, tensorSize) + bytesFieldsSize(m.raw_output_contents);
}

function writeResponse(w: ProtoWriter, m: ModelInferResponseInput, lengths: Lengths, at: { i: number }): void {
  writeHeader(w, m, lengths, at);
  writeMessages(w, 5, m.outputs, lengths, at, writeTensor);
  for (const b of m.raw_output_contents ?? []) { w.key(6, WIRE_LDELIM); w.bytes(b); }
}

/** A ModelInferResponse as bytes. */
export function encodeModelInferResponse(m: ModelInferResponseInput): Buffer {
  const lengths: Lengths = [];
  const w = new ProtoWriter(Buffer.allocUnsafe(responseSize(m, lengths)));
  writeResponse(w, m, lengths, { i: 0 });
  return w.buf;
}

/** A ModelStreamInferResponse as bytes. */
export function encodeModelStreamInferResponse(m: { readonly error_message?: string; readonly infer_response?: ModelInferResponseInput | null }): Buffer {
  const lengths: Lengths = [];
  let size = stringFieldSize(m.error_message, lengths);
  let body = 0;
  if (m.infer_response) {
    body = responseSize(m.infer_response, lengths);
    size += 1 + varintSize(body) + body;
  }
  const w = new ProtoWriter(Buffer.allocUnsafe(size));
  const at = { i: 0 };
  writeStringField(w, 1, m.error_message, lengths, at);
  if (m.infer_response) {
    w.key(2, WIRE_LDELIM);
    w.varint(body);
    writeResponse(w, m.infer_response, lengths, at);
  }
  return w.buf;
}
