/**
 * The KServe v2 JSON inference body: request headers checked for structure, tensor data turned
 * into typed bytes (JSON numbers written once into the tensor's buffer), and responses written.
 */
import { isUtf8 } from 'node:buffer';
import { bfloatToFloat, datatypeFromWire, halfToFloat, type DatatypeInfo } from '../../dtypes.ts';
import { quote, serverError } from '../../errors.ts';
import { checkedElementCount, type InferOutput, type TensorData } from '../../inference/index.ts';
import { tensorFromRaw, tensorFromValues } from '../../inference/index.ts';
import type { DecodedOutput } from '../../inference/index.ts';

/** Kept here too for the callers that knew it before it moved to codec-tensor.ts. */
export { outputBytes } from '../../inference/index.ts';
import type { RequestRegions } from '../../inference/index.ts';
import { regionRefOf, type RegionRef } from '../../shm/index.ts';
import type { BytesForm } from '../../bytes-elements.ts';

export interface DecodedInput {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
  /** JSON `data` (flat or nested), or undefined when the bytes are in the binary part. */
  readonly json: unknown;
  /** parameters.binary_data_size, when the input's bytes follow the JSON header. */
  readonly binarySize: number | undefined;
  /** Where the input's bytes are in a client shared-memory region, when they are. */
  readonly region?: RegionRef;
}

interface DecodedRequest {
  readonly id: string | undefined;
  readonly inputs: readonly DecodedInput[];
  readonly outputs: readonly DecodedOutput[] | null;
  readonly parameters: Readonly<Record<string, unknown>>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const bad = (message: string) => serverError('BAD_REQUEST', message);

/** Commas a JSON body may have besides one per element: its structure (names, parameters). */
const kJsonStructureCommas = 65536;

/**
 * Parses JSON after checking its nesting depth and its size in values with a linear scan:
 * JSON.parse has no limit, and a deep document costs stack, and a long array of small values
 * (`[0,0,...]`, `["","",...]`) costs tens of bytes a value, before anything else can refuse it.
 * A document with more than `maxElements` (plus kJsonStructureCommas) commas outside strings
 * holds more values than a request may have elements, and is refused unparsed.
 */
export function parseJson(body: Buffer | string, maxDepth: number, maxElements = Infinity): unknown {
  // JSON is UTF-8 (RFC 8259); decoding other bytes would turn them into U+FFFD unseen, and a
  // BYTES string would reach the model changed.
  if (typeof body !== 'string' && !isUtf8(body)) throw serverError('MALFORMED_JSON', 'the request JSON is not valid UTF-8');
  const text = typeof body === 'string' ? body : body.toString('utf8');
  const maxCommas = maxElements + kJsonStructureCommas;
  let depth = 0;
  let commas = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 44 /* , */) {
      if (++commas > maxCommas) {
        throw serverError('OVER_LIMIT', `the request JSON holds more than ${maxCommas} values, more than a request of at most ${maxElements} elements can need (--max-request-elements)`);
      }
    } else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > maxDepth) throw serverError('JSON_TOO_DEEP', maxDepth);
    } else if (c === 93 || c === 125) depth--;
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    // JSON.parse's message quotes the text near the fault; name the position only.
    const where = /position \d+/.exec((err as Error).message)?.[0];
    throw serverError('MALFORMED_JSON', where ? `invalid JSON at ${where}` : 'invalid JSON');
  }
}

/** Checks the structure of an inference request body and returns its typed header. */
export function decodeInferRequest(body: unknown): DecodedRequest {
  if (!isObject(body)) throw bad('the inference request must be a JSON object');
  if (body.id !== undefined && typeof body.id !== 'string') throw bad("request 'id' must be a string");
  const parameters = body.parameters ?? {};
  if (!isObject(parameters)) throw bad("request 'parameters' must be an object");
  if (!Array.isArray(body.inputs)) throw bad("request must have an 'inputs' array");
  const inputs = body.inputs.map((raw, i): DecodedInput => {
    if (!isObject(raw)) throw bad(`inputs[${i}] must be an object`);
    if (typeof raw.name !== 'string') throw bad(`inputs[${i}] must have a string 'name'`);
    if (typeof raw.datatype !== 'string') throw bad(`input '${quote(raw.name)}' must have a string 'datatype'`);
    if (!Array.isArray(raw.shape)) throw bad(`input '${quote(raw.name)}' must have a 'shape' array`);
    const params = raw.parameters ?? {};
    if (!isObject(params)) throw bad(`input '${quote(raw.name)}': 'parameters' must be an object`);
    const region = regionRefOf(params, `input '${quote(raw.name)}'`);
    const size = params.binary_data_size;
    if (size !== undefined && (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)) {
      throw bad(`input '${quote(raw.name)}': parameters.binary_data_size must be a non-negative integer`);
    }
    if (region && (size !== undefined || raw.data !== undefined)) {
      throw bad(`input '${quote(raw.name)}' must set only one of 'data', parameters.binary_data_size and parameters.shared_memory_region`);
    }
    if (size === undefined && raw.data === undefined && !region) {
      throw bad(`input '${quote(raw.name)}' has neither 'data' nor parameters.binary_data_size nor parameters.shared_memory_region`);
    }
    if (size !== undefined && raw.data !== undefined) throw bad(`input '${quote(raw.name)}' has both 'data' and parameters.binary_data_size`);
    const decoded = { name: raw.name, datatype: raw.datatype, shape: raw.shape as number[], json: raw.data, binarySize: size as number | undefined };
    return region ? { ...decoded, region } : decoded;
  });
  const binaryOutput = parameters.binary_data_output;
  if (binaryOutput !== undefined && typeof binaryOutput !== 'boolean') throw bad('parameters.binary_data_output must be a boolean');
  let outputs: DecodedOutput[] | null = null;
  if (body.outputs !== undefined) {
    if (!Array.isArray(body.outputs)) throw bad("request 'outputs' must be an array");
    outputs = body.outputs.map((raw, i) => {
      if (!isObject(raw) || typeof raw.name !== 'string') throw bad(`outputs[${i}] must be an object with a string 'name'`);
      const params = raw.parameters ?? {};
      if (!isObject(params)) throw bad(`output '${quote(raw.name)}': 'parameters' must be an object`);
      if (params.binary_data !== undefined && typeof params.binary_data !== 'boolean') {
        throw bad(`output '${quote(raw.name)}': parameters.binary_data must be a boolean`);
      }
      const classCount = params.classification;
      if (classCount !== undefined && !(Number.isSafeInteger(classCount) && (classCount as number) >= 0)) {
        throw bad(`output '${quote(raw.name)}': Unable to set 'classification': expected a non-negative integer`);
      }
      if (classCount !== undefined && params.shared_memory_region !== undefined) throw bad("Output can't set both 'shared_memory_region' and 'classification'");
      const region = regionRefOf(params, `output '${quote(raw.name)}'`);
      if (!region) {
        const binary = (params.binary_data as boolean | undefined) ?? binaryOutput === true;
        return classCount ? { name: raw.name, binary, classCount: classCount as number } : { name: raw.name, binary };
      }
      if (params.binary_data === true) throw bad(`output '${quote(raw.name)}' can't set both 'shared_memory_region' and 'binary_data'`);
      return { name: raw.name, binary: false, region };
    });
    // An empty list asks for nothing in particular: every output, as in Triton.
    if (outputs.length === 0) outputs = null;
  }
  return { id: body.id as string | undefined, inputs, outputs, parameters };
}

/**
 * Converts each input's data (JSON, its slice of the binary part, or its range of a client
 * shared-memory region, leased through `regions`) into tensor data.
 * Call only after the header passed checkRequest: sizes are checked against the shape here.
 */
export function materializeInputs(
  inputs: readonly DecodedInput[],
  binary: Buffer,
  requestId: string | undefined,
  model: string,
  regions?: RequestRegions,
  form: BytesForm = 'text',
): TensorData[] {
  const rid = requestId || '<id_unknown>';
  let offset = 0;
  const out = inputs.map((input) => {
    const dt = datatypeFromWire(input.datatype)!;
    const count = checkedElementCount(input.name, input.shape, rid, model);
    if (input.region) {
      if (!regions) throw serverError('SHM_DISABLED');
      return regions.input(input.name, dt, count, input.region, form);
    }
    if (input.binarySize !== undefined) {
      if (offset + input.binarySize > binary.length) {
        throw serverError('BINARY_SIZE_MISMATCH', `input '${quote(input.name)}': binary_data_size ${input.binarySize} goes past the end of the body's ${binary.length} binary bytes`);
      }
      const bytes = binary.subarray(offset, offset + input.binarySize);
      offset += input.binarySize;
      return tensorFromRaw(input.name, dt, count, bytes, rid, form);
    }
    return fromJson(input.name, dt, count, input.json, rid, form);
  });
  if (offset !== binary.length) {
    throw serverError('BINARY_SIZE_MISMATCH', `the body has ${binary.length - offset} binary bytes beyond the inputs' binary_data_size total of ${offset}`);
  }
  return out;
}

function fromJson(name: string, dt: DatatypeInfo, count: number, data: unknown, rid: string, form: BytesForm): TensorData {
  const flat: unknown[] = [];
  const collect = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const x of v) {
        collect(x);
        if (flat.length > count) break;
      }
    } else flat.push(v);
  };
  collect(data);
  return tensorFromValues(name, dt, count, flat, rid, form);
}

/** An output's JSON `data` text (written by hand: 64-bit integers must not pass through doubles). */
export function outputJsonData(output: InferOutput, form: BytesForm = 'text'): string {
  const dt = output.datatype;
  // A JSON string holds text: raw bytes (form 'binary') are shown as their UTF-8 decoding.
  if (Array.isArray(output.data)) return JSON.stringify(form === 'binary' ? output.data.map((v) => Buffer.from(v, 'latin1').toString('utf8')) : output.data);
  const values = new dt.array!(output.data as ArrayBuffer);
  switch (dt.json) {
    case 'bigint':
      return `[${(values as BigInt64Array).join(',')}]`;
    case 'bool':
      return `[${Array.from(values as Uint8Array, (v) => (v ? 'true' : 'false')).join(',')}]`;
    case 'half':
      return JSON.stringify(Array.from(values as Uint16Array, halfToFloat));
    case 'bfloat':
      return JSON.stringify(Array.from(values as Uint16Array, bfloatToFloat));
    default:
      return JSON.stringify(Array.from(values as Float32Array));
  }
}
