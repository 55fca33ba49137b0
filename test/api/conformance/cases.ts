/**
 * The inference conformance table: requests in protocol-neutral terms (model, version, inputs,
 * requested outputs, parameters) and what the server must answer, the same over HTTP and gRPC.
 * http.test.ts and grpc.test.ts run every case through their transport's driver; behaviour that
 * only one wire format has (JSON parsing, the binary extension's layout, raw vs typed contents,
 * 64-bit values, shared memory) is tested beside that transport's other tests.
 */
import * as grpc from '@grpc/grpc-js';

/** A tensor as the table writes it: the values, flat, in row-major order. */
export interface CaseTensor {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly data: readonly (number | string)[];
}

/** What the server answers to a good request (outputs in the order the server sends them). */
export interface Answer {
  /** The request id echoed back ('' when the request had none: gRPC's default, HTTP omits it). */
  readonly id?: string;
  readonly version: string;
  readonly outputs: readonly CaseTensor[];
}

/** How each transport refuses a bad request: its status and a message that says what is wrong. */
export interface Refusal {
  readonly http: readonly [status: number, message: RegExp];
  readonly grpc: readonly [code: grpc.status, message: RegExp];
}

export interface ConformanceCase {
  readonly title: string;
  readonly model: string;
  /** A version in the URL or message; latest when absent. A string, to send ones that are not numbers. */
  readonly version?: string;
  readonly id?: string;
  readonly inputs: readonly CaseTensor[];
  /** Outputs asked for by name; every output when absent. */
  readonly outputs?: readonly string[];
  readonly parameters?: Readonly<Record<string, string | number | boolean>>;
  readonly expect: { readonly answer: Answer } | { readonly refusal: Refusal };
}

/** The models the table uses, for repositoryOf(). */
export const MODELS = ['simple', 'simple_identity', 'simple_string', 'versioned', 'whole_shape', 'bad_config', 'corrupt'];

const { INVALID_ARGUMENT, NOT_FOUND, UNAVAILABLE } = grpc.status;

/** `rows` copies of 0..15, plus `start + row * 16`: what `simple` takes as INPUT0. */
const seq = (rows: number, start = 0): number[] => Array.from({ length: rows * 16 }, (_, i) => start + i);
const fill = (n: number, v: number): number[] => new Array(n).fill(v);

/** `simple`'s inputs: INPUT0 = seq(rows, start), INPUT1 = all `add`, each field overridable. */
function simpleInputs(rows = 1, start = 0, add = 1, input0: Partial<CaseTensor> = {}, input1: Partial<CaseTensor> = {}): CaseTensor[] {
  return [
    { name: 'INPUT0', datatype: 'INT32', shape: [rows, 16], data: seq(rows, start), ...input0 },
    { name: 'INPUT1', datatype: 'INT32', shape: [rows, 16], data: fill(rows * 16, add), ...input1 },
  ];
}

/** What `simple` answers for simpleInputs(rows, start, add): OUTPUT0 = sum, OUTPUT1 = difference. */
function simpleOutputs(rows = 1, start = 0, add = 1): CaseTensor[] {
  return [
    { name: 'OUTPUT0', datatype: 'INT32', shape: [rows, 16], data: seq(rows, start).map((v) => v + add) },
    { name: 'OUTPUT1', datatype: 'INT32', shape: [rows, 16], data: seq(rows, start).map((v) => v - add) },
  ];
}

const versionedInput = (data: number[]): CaseTensor[] => [{ name: 'INPUT0', datatype: 'FP32', shape: [data.length, 1], data }];
const words = ['héllo', '日本語', '🙂👍', '', 'tab\tquote"back\\slash', 'naïve ✓', 'a'.repeat(1000)];

/** A refusal with the same message over both transports (the checks every front-end shares). */
const refused = (status: number, code: grpc.status, message: RegExp): { refusal: Refusal } => ({ refusal: { http: [status, message], grpc: [code, message] } });
const invalid = (message: RegExp) => refused(400, INVALID_ARGUMENT, message);

export const CASES: readonly ConformanceCase[] = [
  // Right answers.
  { title: 'adds and subtracts a batch of one with simple, and echoes the id', model: 'simple', id: 'req-42 ✓', inputs: simpleInputs(), expect: { answer: { id: 'req-42 ✓', version: '1', outputs: simpleOutputs() } } },
  { title: "answers a request with parameters of the client's own, 'triton' inside a key included", model: 'simple', inputs: simpleInputs(), parameters: { my_key: 'v', not_triton_: 2, flag: true }, expect: { answer: { version: '1', outputs: simpleOutputs() } } },
  { title: 'adds and subtracts each row of a batch of three', model: 'simple', inputs: simpleInputs(3, 0, -2), expect: { answer: { version: '1', outputs: simpleOutputs(3, 0, -2) } } },
  { title: 'answers a full batch of max_batch_size rows', model: 'simple', inputs: simpleInputs(8, 100), expect: { answer: { version: '1', outputs: simpleOutputs(8, 100) } } },
  { title: 'returns only the outputs asked for', model: 'simple', inputs: simpleInputs(), outputs: ['OUTPUT1'], expect: { answer: { version: '1', outputs: simpleOutputs().slice(1) } } },
  { title: 'returns every output when the outputs list is empty', model: 'simple', inputs: simpleInputs(), outputs: [], expect: { answer: { version: '1', outputs: simpleOutputs() } } },
  { title: 'accepts request parameters it does not know', model: 'simple', inputs: simpleInputs(), parameters: { flag: true, count: 3, ratio: 0.5, label: 'x' }, expect: { answer: { version: '1', outputs: simpleOutputs() } } },
  {
    title: 'adds and subtracts decimal strings with simple_string',
    model: 'simple_string',
    inputs: [
      { name: 'INPUT0', datatype: 'BYTES', shape: [1, 16], data: seq(1).map(String) },
      { name: 'INPUT1', datatype: 'BYTES', shape: [1, 16], data: seq(1).map((v) => String(v * 10)) },
    ],
    expect: { answer: { version: '1', outputs: [
      { name: 'OUTPUT0', datatype: 'BYTES', shape: [1, 16], data: seq(1).map((v) => String(v * 11)) },
      { name: 'OUTPUT1', datatype: 'BYTES', shape: [1, 16], data: seq(1).map((v) => String(-v * 9)) },
    ] } },
  },
  {
    title: 'returns unicode strings unchanged from simple_identity',
    model: 'simple_identity',
    inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, words.length], data: words }],
    expect: { answer: { version: '1', outputs: [{ name: 'OUTPUT0', datatype: 'BYTES', shape: [1, words.length], data: words }] } },
  },
  ...[1, 2, 3].map((v): ConformanceCase => ({
    title: `runs version ${v} of versioned when asked for it`,
    model: 'versioned',
    version: String(v),
    inputs: versionedInput([1.5, -4]),
    expect: { answer: { version: String(v), outputs: [{ name: 'OUTPUT0', datatype: 'FP32', shape: [2, 1], data: [1.5 * v, -4 * v] }] } },
  })),
  { title: 'runs the latest version when none is named', model: 'versioned', inputs: versionedInput([2]), expect: { answer: { version: '3', outputs: [{ name: 'OUTPUT0', datatype: 'FP32', shape: [1, 1], data: [6] }] } } },
  {
    title: 'runs a model without a batch dimension on its whole shape',
    model: 'whole_shape',
    inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [2, 3], data: [1, 2, 3, -4, 0.5, 6] }],
    expect: { answer: { version: '1', outputs: [{ name: 'OUTPUT0', datatype: 'FP32', shape: [2, 3], data: [2, 4, 6, -8, 1, 12] }] } },
  },

  // Refusals.
  { title: 'an unknown model', model: 'nope', inputs: simpleInputs(), expect: refused(404, NOT_FOUND, /^Request for unknown model: 'nope' is not found$/) },
  { title: 'an unknown version', model: 'simple', version: '7', inputs: simpleInputs(), expect: refused(404, NOT_FOUND, /^Request for unknown model: 'simple' version 7 is not found$/) },
  { title: 'a version that is not a number', model: 'simple', version: 'wrong_specification', inputs: simpleInputs(), expect: invalid(/^failed to get model version from specified version string 'wrong_specification' \(details: not an integer\), version should be an integral value > 0$/) },
  { title: 'a negative version', model: 'simple', version: '-1', inputs: simpleInputs(), expect: invalid(/^invalid model version specified '-1' , version should be an integral value > 0$/) },
  { title: 'a version past the integer range', model: 'simple', version: '99999999999999999999', inputs: simpleInputs(), expect: invalid(/^failed to get model version from specified version string '99999999999999999999' \(details: out of range\)/) },
  { title: 'a long version string, shown cut short', model: 'simple', version: 'x'.repeat(90), inputs: simpleInputs(), expect: invalid(/^failed to get model version from specified version string 'x{32}\.\.\.' /) },
  { title: 'a sequence_id on a model without sequence_batching', model: 'simple', inputs: simpleInputs(), parameters: { sequence_id: 42 }, expect: invalid(/^inference request to model 'simple' sets parameter 'sequence_id', which only a model with sequence_batching takes$/) },
  { title: 'a string sequence_id on a model without sequence_batching', model: 'simple', inputs: simpleInputs(), parameters: { sequence_id: 'abc' }, expect: invalid(/sets parameter 'sequence_id'/) },
  { title: 'sequence_start on a model without sequence_batching', model: 'simple', inputs: simpleInputs(), parameters: { sequence_start: true }, expect: invalid(/sets parameter 'sequence_start'/) },
  { title: 'sequence_end on a model without sequence_batching', model: 'simple', inputs: simpleInputs(), parameters: { sequence_end: true }, expect: invalid(/sets parameter 'sequence_end'/) },
  { title: 'the sequence parameters that mean no sequence, as a client may send them', model: 'simple', inputs: simpleInputs(), parameters: { sequence_id: 0, sequence_start: false, sequence_end: false }, expect: { answer: { version: '1', outputs: simpleOutputs() } } },
  { title: 'a version with leading zeros, read as Triton reads it', model: 'versioned', version: '02', inputs: versionedInput([2]), expect: { answer: { version: '2', outputs: [{ name: 'OUTPUT0', datatype: 'FP32', shape: [1, 1], data: [4] }] } } },
  { title: 'a model whose config failed to load', model: 'bad_config', inputs: simpleInputs(), expect: refused(503, UNAVAILABLE, /^Request for unknown model: 'bad_config' has no available versions$/) },
  { title: 'a model whose only version failed to load', model: 'corrupt', inputs: simpleInputs(), expect: refused(503, UNAVAILABLE, /^Request for unknown model: 'corrupt' has no available versions$/) },
  { title: 'an unknown input', model: 'simple', inputs: simpleInputs(1, 0, 1, { name: 'INPUT9' }), expect: invalid(/unexpected inference input 'INPUT9' for model 'simple'/) },
  { title: 'an unknown output', model: 'simple', inputs: simpleInputs(), outputs: ['OUTPUT9'], expect: invalid(/unexpected inference output 'OUTPUT9' for model 'simple'/) },
  { title: "a request parameter whose key starts with 'triton_' (Triton reserves them)", model: 'simple', inputs: simpleInputs(), parameters: { triton_other: true }, expect: invalid(/^parameter keys starting with 'triton_' are reserved for Triton usage/) },
  { title: "a reserved 'triton_' key beside parameters of the client's own", model: 'simple', inputs: simpleInputs(), parameters: { my_key: 1, triton_final_response: 'x' }, expect: invalid(/reserved for Triton usage/) },
  { title: 'an output asked for twice', model: 'simple', inputs: simpleInputs(), outputs: ['OUTPUT0', 'OUTPUT0'], expect: invalid(/output 'OUTPUT0' is requested more than once for model 'simple'/) },
  { title: 'a missing input', model: 'simple', inputs: simpleInputs().slice(0, 1), expect: invalid(/expected 2 inputs but got 1 inputs for model 'simple'.*missing required input\(s\) \['INPUT1'\]/) },
  { title: 'an input given twice', model: 'simple', inputs: simpleInputs(1, 0, 1, {}, { name: 'INPUT0' }), expect: invalid(/input 'INPUT0' is given more than once for model 'simple'/) },
  { title: 'the wrong datatype', model: 'simple', inputs: simpleInputs(1, 0, 1, { datatype: 'FP32' }), expect: invalid(/inference input 'INPUT0' data-type is 'FP32', but model 'simple' expects 'INT32'/) },
  { title: 'an unknown datatype', model: 'simple', inputs: simpleInputs(1, 0, 1, { datatype: 'FP8' }), expect: invalid(/input 'INPUT0' has unknown datatype 'FP8'/) },
  { title: 'a shape of the wrong rank', model: 'simple', inputs: simpleInputs(1, 0, 1, { shape: [16] }), expect: invalid(/unexpected shape for input 'INPUT0' for model 'simple'\. Expected \[-1,16\], got \[16\]/) },
  { title: 'a shape with the wrong fixed dim', model: 'simple', inputs: simpleInputs(1, 0, 1, { shape: [1, 15], data: seq(1).slice(1) }), expect: invalid(/unexpected shape for input 'INPUT0' for model 'simple'\. Expected \[-1,16\], got \[1,15\]/) },
  { title: 'a negative dim', model: 'simple', inputs: simpleInputs(1, 0, 1, { shape: [1, -16] }), expect: invalid(/unexpected shape for input 'INPUT0' for model 'simple'.*Each dim must be a non-negative integer/) },
  { title: 'a negative batch dim', model: 'simple', inputs: simpleInputs(1, 0, 1, { shape: [-1, 16] }), expect: invalid(/unexpected shape for input 'INPUT0' for model 'simple'.*Each dim must be a non-negative integer/) },
  { title: 'an absurd shape', model: 'simple', inputs: simpleInputs(1, 0, 1, { shape: [1, 2 ** 40] }), expect: invalid(/unexpected shape for input 'INPUT0' for model 'simple'.*The shape is too large/) },
  { title: 'a batch over max_batch_size', model: 'simple', inputs: simpleInputs(9), expect: invalid(/inference request batch-size must be <= 8 for 'simple'/) },
  { title: 'a batch of zero rows', model: 'simple', inputs: simpleInputs(0), expect: invalid(/batch-size must be >= 1 for 'simple'/) },
  { title: 'batch sizes that differ between inputs', model: 'simple', inputs: [simpleInputs(2)[0], simpleInputs(1)[1]], expect: invalid(/for model 'simple'\. Expected batch size 2 as the other inputs, got \[1,16\]/) },
  {
    // The transports count differently: JSON in elements, raw contents in bytes.
    title: 'data shorter than the shape',
    model: 'simple',
    inputs: simpleInputs(1, 0, 1, { data: seq(1).slice(1) }),
    expect: { refusal: { http: [400, /input 'INPUT0' has fewer data elements than the 16 its shape needs/], grpc: [INVALID_ARGUMENT, /input 'INPUT0': expected 64 bytes for its shape, got 60/] } },
  },
  {
    title: 'data longer than the shape',
    model: 'simple',
    inputs: simpleInputs(1, 0, 1, {}, { data: fill(17, 1) }),
    expect: { refusal: { http: [400, /input 'INPUT1' has more data elements than the 16 its shape needs/], grpc: [INVALID_ARGUMENT, /input 'INPUT1': expected 64 bytes for its shape, got 68/] } },
  },
];
