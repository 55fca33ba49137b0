/**
 * The inference messages as plain objects, in the shape the loader options of grpc-proto.ts
 * give them (snake_case, 64-bit integers as decimal strings, every field present), and the
 * conversion of InferParameter maps to and from plain values. Shared by server and client.
 */

/** One InferParameter; `parameter_choice` names the member that is set. */
export interface InferParameterMessage {
  parameter_choice?: 'bool_param' | 'int64_param' | 'string_param' | 'double_param' | 'uint64_param';
  bool_param?: boolean;
  int64_param?: string | number;
  string_param?: string;
  double_param?: number;
  uint64_param?: string | number;
}

export type ParameterMap = Record<string, InferParameterMessage>;

/** Typed tensor values; one field is used, the one that fits the datatype. */
export interface TensorContentsMessage {
  bool_contents: boolean[];
  int_contents: number[];
  int64_contents: (string | number)[];
  uint_contents: number[];
  uint64_contents: (string | number)[];
  fp32_contents: number[];
  fp64_contents: number[];
  bytes_contents: Uint8Array[];
}

export interface InferInputTensorMessage {
  name: string;
  datatype: string;
  shape: (string | number)[];
  parameters: ParameterMap;
  /** Null when the input's bytes are in raw_input_contents. */
  contents: Partial<TensorContentsMessage> | null;
}

export interface RequestedOutputMessage {
  name: string;
  parameters: ParameterMap;
}

export interface ModelInferRequestMessage {
  model_name: string;
  model_version: string;
  id: string;
  parameters: ParameterMap;
  inputs: InferInputTensorMessage[];
  outputs: RequestedOutputMessage[];
  raw_input_contents: Uint8Array[];
}

interface InferOutputTensorMessage {
  name: string;
  datatype: string;
  shape: (string | number)[];
  parameters: ParameterMap;
  contents: Partial<TensorContentsMessage> | null;
}

export interface ModelInferResponseMessage {
  model_name: string;
  model_version: string;
  id: string;
  parameters: ParameterMap;
  outputs: InferOutputTensorMessage[];
  raw_output_contents: Uint8Array[];
}

export interface ModelStreamInferResponseMessage {
  error_message: string;
  infer_response: ModelInferResponseMessage | null;
}

/** Which InferTensorContents field carries each datatype; FP16 and BF16 have none (raw only). */
export const CONTENTS_FIELD: Readonly<Record<string, keyof TensorContentsMessage | null>> = Object.freeze({
  BOOL: 'bool_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
  FP16: null,
  BF16: null,
});

/** The wire datatype each contents field stands for, as Triton names it in its errors. */
export const CONTENTS_FIELD_TYPE: Readonly<Record<keyof TensorContentsMessage, string>> = Object.freeze({
  bool_contents: 'BOOL',
  int_contents: 'INT32',
  int64_contents: 'INT64',
  uint_contents: 'UINT32',
  uint64_contents: 'UINT64',
  fp32_contents: 'FP32',
  fp64_contents: 'FP64',
  bytes_contents: 'BYTES',
});

/**
 * An InferParameter map as plain values: booleans, strings, doubles, and 64-bit integers as
 * numbers when they fit a double exactly, else as bigints.
 */
export function parametersFromMessage(map: ParameterMap | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!map) return out;
  for (const [key, p] of Object.entries(map)) {
    // Decoded messages name the member; hand-made ones (the client's own) may only set it.
    const choice = p.parameter_choice ?? kParameterMembers.find((m) => p[m] !== undefined);
    if (choice === undefined) continue;
    const value = p[choice];
    out[key] = choice === 'int64_param' || choice === 'uint64_param' ? integerValue(value as string | number) : value;
  }
  return out;
}

const kParameterMembers = ['bool_param', 'int64_param', 'string_param', 'double_param', 'uint64_param'] as const;

function integerValue(value: string | number): number | bigint {
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : BigInt(value);
}

/**
 * Plain values as an InferParameter map: a boolean, a string, an integer (int64_param; uint64
 * above the int64 range), or any other number (double_param). Throws a TypeError for other kinds.
 */
export function parametersToMessage(values: Readonly<Record<string, unknown>> | undefined): ParameterMap {
  const out: ParameterMap = {};
  for (const [key, v] of Object.entries(values ?? {})) {
    if (typeof v === 'boolean') out[key] = { bool_param: v };
    else if (typeof v === 'string') out[key] = { string_param: v };
    else if (typeof v === 'bigint') out[key] = v >= 2n ** 63n ? { uint64_param: v.toString() } : { int64_param: v.toString() };
    else if (typeof v === 'number' && Number.isSafeInteger(v)) out[key] = { int64_param: v };
    else if (typeof v === 'number') out[key] = { double_param: v };
    else throw new TypeError(`parameter '${key}' must be a boolean, string, number or bigint`);
  }
  return out;
}
