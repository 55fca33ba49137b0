// Nereid's ONNX reader: readModelIo() decodes any ONNX file far enough to tell its graph
// inputs, outputs, opset and IR version (used to validate and auto-complete model
// configurations). The writer of the example and test models is development code, in
// tools/onnx-writer.ts; it shares this schema and these element type codes.
//
// The schema is the subset in onnx.proto next to this file, loaded once.

import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

// ---------------------------------------------------------------------------
// Schema

const root = new protobuf.Root().loadSync(fileURLToPath(new URL('./onnx.proto', import.meta.url)), { keepCase: true });
/** onnx.ModelProto, for the reader here and the writer in tools/. */
export const ModelProto = root.lookupType('onnx.ModelProto');

// ---------------------------------------------------------------------------
// Element types

/** ONNX TensorProto.DataType names that Nereid knows how to write. */
export type OnnxElemType =
  | 'FLOAT'
  | 'UINT8'
  | 'INT8'
  | 'UINT16'
  | 'INT16'
  | 'INT32'
  | 'INT64'
  | 'STRING'
  | 'BOOL'
  | 'FLOAT16'
  | 'DOUBLE'
  | 'UINT32'
  | 'UINT64'
  | 'BFLOAT16';

/** TensorProto.DataType numbers of the element types in OnnxElemType. */
export const ONNX_TYPE_CODES: Readonly<Record<OnnxElemType, number>> = Object.freeze({
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  BFLOAT16: 16,
});

const OTHER_TYPE_NAMES: Record<number, string> = {
  0: 'UNDEFINED',
  14: 'COMPLEX64',
  15: 'COMPLEX128',
  17: 'FLOAT8E4M3FN',
  18: 'FLOAT8E4M3FNUZ',
  19: 'FLOAT8E5M2',
  20: 'FLOAT8E5M2FNUZ',
  21: 'UINT4',
  22: 'INT4',
  23: 'FLOAT4E2M1',
};

const TYPE_NAMES_BY_CODE = new Map<number, string>([
  ...Object.entries(ONNX_TYPE_CODES).map(([name, code]) => [code, name] as [number, string]),
  ...Object.entries(OTHER_TYPE_NAMES).map(([code, name]) => [Number(code), name] as [number, string]),
]);

/** The TensorProto.DataType number of an element type (e.g. for Cast's `to` attribute). */
export function onnxTypeCode(elemType: OnnxElemType): number {
  const code = ONNX_TYPE_CODES[elemType];
  if (code === undefined) throw new Error(`unknown ONNX element type '${String(elemType)}'`);
  return code;
}

/** The TensorProto.DataType name of a number; 'UNKNOWN_<n>' for numbers this file does not know. */
function onnxTypeName(code: number): OnnxElemType | string {
  return TYPE_NAMES_BY_CODE.get(code) ?? `UNKNOWN_${code}`;
}

// ---------------------------------------------------------------------------
// Reading

/**
 * A graph input or output as declared by a model.
 * elemType: the TensorProto.DataType name for tensors ('UNKNOWN_<n>' for numbers
 * not known here), or 'SEQUENCE', 'MAP', 'OPTIONAL', 'SPARSE_TENSOR', 'UNDEFINED'.
 * shape: null = unknown rank; per dim: number = dim_value, string = dim_param,
 * null = unknown dim.
 */
interface IoInfo {
  name: string;
  elemType: OnnxElemType | string;
  shape: (number | string | null)[] | null;
}

interface ModelIo {
  /** Graph inputs that must be fed (graph inputs that are also initializers are left out). */
  inputs: IoInfo[];
  outputs: IoInfo[];
  /**
   * Graph inputs that are also initializers: inputs that may be fed to override
   * their default value (ONNX Runtime's "overridable initializers").
   */
  overridableInitializers: IoInfo[];
  /** Version of the default (ai.onnx) operator set; 0 when the model imports none. */
  opset: number;
  irVersion: number;
}

interface DecodedShape { dim?: { dim_value?: number; dim_param?: string }[] }
interface DecodedTensorType { elem_type?: number; shape?: DecodedShape }
interface DecodedType {
  tensor_type?: DecodedTensorType;
  sparse_tensor_type?: DecodedTensorType;
  sequence_type?: unknown;
  map_type?: unknown;
  optional_type?: unknown;
}
interface DecodedValueInfo { name?: string; type?: DecodedType }
interface DecodedModel {
  ir_version?: number;
  opset_import?: { domain?: string; version?: number }[];
  graph?: {
    input?: DecodedValueInfo[];
    output?: DecodedValueInfo[];
    initializer?: { name?: string }[];
  };
}

function ioInfo(v: DecodedValueInfo): IoInfo {
  const name = v.name ?? '';
  const t = v.type;
  if (!t) return { name, elemType: 'UNDEFINED', shape: null };
  if (t.tensor_type) {
    const tt = t.tensor_type;
    const shape = tt.shape
      ? (tt.shape.dim ?? []).map((d): number | string | null => {
          if (d.dim_value !== undefined) return Number(d.dim_value);
          if (d.dim_param !== undefined && d.dim_param !== '') return d.dim_param;
          return null;
        })
      : null;
    return { name, elemType: onnxTypeName(tt.elem_type ?? 0), shape };
  }
  if (t.sparse_tensor_type) return { name, elemType: 'SPARSE_TENSOR', shape: null };
  if (t.sequence_type) return { name, elemType: 'SEQUENCE', shape: null };
  if (t.map_type) return { name, elemType: 'MAP', shape: null };
  if (t.optional_type) return { name, elemType: 'OPTIONAL', shape: null };
  return { name, elemType: 'UNDEFINED', shape: null };
}

/** Reads the graph inputs/outputs, opset and IR version of an ONNX model. */
export function readModelIo(bytes: Uint8Array): ModelIo {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('readModelIo: expected a Uint8Array');
  let decoded: DecodedModel;
  try {
    // A Buffer view lets protobufjs slice bytes fields (initializer data) without copying them.
    const view = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const message = ModelProto.decode(view);
    decoded = ModelProto.toObject(message, { longs: Number, enums: Number, defaults: false }) as DecodedModel;
  } catch (err) {
    throw new Error(`not a valid ONNX model: ${(err as Error).message}`);
  }
  if (!decoded.ir_version || decoded.ir_version <= 0) {
    throw new Error('not a valid ONNX model: it has no ir_version');
  }
  const graph = decoded.graph;
  if (!graph) throw new Error('not a valid ONNX model: it has no graph');

  const initializerNames = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  const inputs: IoInfo[] = [];
  const overridableInitializers: IoInfo[] = [];
  for (const v of graph.input ?? []) {
    (initializerNames.has(v.name ?? '') ? overridableInitializers : inputs).push(ioInfo(v));
  }
  const outputs = (graph.output ?? []).map(ioInfo);
  const defaultOpset = (decoded.opset_import ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  return {
    inputs,
    outputs,
    overridableInitializers,
    opset: Number(defaultOpset?.version ?? 0),
    irVersion: Number(decoded.ir_version),
  };
}
