import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import { parsePbtxt, PbtxtError } from '../../src/model-config/parse-pbtxt.ts';
import { modelConfigType, toTritonJson } from '../../src/model-config/model-config-schema.ts';

interface Case {
  name: string;
  input: string;
  output?: Record<string, unknown>;
  error?: RegExp;
}

type Plain = Record<string, unknown>;

// Triton's `simple` example model, written the way its docs write it.
const kSimple = `
name: "simple"
platform: "onnxruntime_onnx"
max_batch_size: 8
version_policy: { specific { versions: [1, 3] } }
input [
  {
    name: "INPUT0"
    data_type: TYPE_INT32
    dims: [ 16 ]
  },
  {
    name: "INPUT1"
    data_type: TYPE_INT32
    dims: [ 16 ]
  }
]
output [
  { name: "OUTPUT0", data_type: TYPE_INT32, dims: [ 16 ] }
]
dynamic_batching {
  preferred_batch_size: [ 4, 8 ]
  max_queue_delay_microseconds: 100
}
instance_group [ { count: 2 kind: KIND_CPU } ]
parameters { key: "execution_mode" value { string_value: "parallel" } }
parameters { key: "intra_op_thread_count" value { string_value: "2" } }
`;

const kSimpleOutput = {
  name: 'simple',
  platform: 'onnxruntime_onnx',
  max_batch_size: 8,
  version_policy: { specific: { versions: [1, 3] } },
  input: [
    { name: 'INPUT0', data_type: 'TYPE_INT32', dims: [16] },
    { name: 'INPUT1', data_type: 'TYPE_INT32', dims: [16] },
  ],
  output: [{ name: 'OUTPUT0', data_type: 'TYPE_INT32', dims: [16] }],
  dynamic_batching: { preferred_batch_size: [4, 8], max_queue_delay_microseconds: 100 },
  instance_group: [{ count: 2, kind: 'KIND_CPU' }],
  parameters: {
    execution_mode: { string_value: 'parallel' },
    intra_op_thread_count: { string_value: '2' },
  },
};

const kEnsemble = `
name: "ensemble"
platform: "ensemble"
max_batch_size: 1
ensemble_scheduling {
  step [
    {
      model_name: "preprocess"
      model_version: -1
      input_map { key: "RAW" value: "IMAGE" }
      output_map { key: "OUT" value: "preprocessed" }
    },
    {
      model_name: "classifier"
      model_version: -1
      input_map { key: "INPUT", value: "preprocessed" }
      output_map { key: "SCORES", value: "SCORES" }
    }
  ]
}
`;

const successes: Case[] = [
  { name: "Triton's simple example model", input: kSimple, output: kSimpleOutput },
  {
    name: 'an ensemble with string-to-string maps and a negative int64',
    input: kEnsemble,
    output: {
      name: 'ensemble',
      platform: 'ensemble',
      max_batch_size: 1,
      ensemble_scheduling: {
        step: [
          { model_name: 'preprocess', model_version: -1, input_map: { RAW: 'IMAGE' }, output_map: { OUT: 'preprocessed' } },
          { model_name: 'classifier', model_version: -1, input_map: { INPUT: 'preprocessed' }, output_map: { SCORES: 'SCORES' } },
        ],
      },
    },
  },
  { name: 'empty text', input: '', output: {} },
  { name: 'only comments and blank lines', input: '# a comment\n\n   # another\n', output: {} },
  {
    name: 'comments after values, and a # inside a string',
    input: 'name: "a#b" # trailing\n# whole line\nmax_batch_size: 4 #x',
    output: { name: 'a#b', max_batch_size: 4 },
  },
  { name: 'a sub-message as name { }', input: 'dynamic_batching { }', output: { dynamic_batching: {} } },
  { name: 'a sub-message as name: { }', input: 'dynamic_batching: { preserve_ordering: true }', output: { dynamic_batching: { preserve_ordering: true } } },
  { name: 'a sub-message as name < >', input: 'dynamic_batching < max_queue_delay_microseconds: 5 >', output: { dynamic_batching: { max_queue_delay_microseconds: 5 } } },
  { name: 'a sub-message as name: < >', input: 'response_cache: < enable: true >', output: { response_cache: { enable: true } } },
  { name: 'an empty nested message', input: 'version_policy { all { } }', output: { version_policy: { all: {} } } },
  {
    name: 'comma and semicolon separators',
    input: 'name: "m", max_batch_size: 2; backend: "onnxruntime";',
    output: { name: 'm', max_batch_size: 2, backend: 'onnxruntime' },
  },
  {
    name: 'a repeated scalar as repeated keys',
    input: 'input { dims: 1 dims: -1 dims: 3 }',
    output: { input: [{ dims: [1, -1, 3] }] },
  },
  {
    name: 'a repeated scalar as a list, an empty list and both forms mixed',
    input: 'input { dims: [1, 2] dims: 3 dims: [] dims: [ 4 ] }',
    output: { input: [{ dims: [1, 2, 3, 4] }] },
  },
  { name: 'an empty list alone', input: 'input { dims: [] }', output: { input: [{ dims: [] }] } },
  {
    name: 'repeated messages as keys, as lists with and without a colon, in order',
    input: 'input { name: "a" } input [ { name: "b" }, < name: "c" > ] input: [{ name: "d" }] input: { name: "e" }',
    output: { input: [{ name: 'a' }, { name: 'b' }, { name: 'c' }, { name: 'd' }, { name: 'e' }] },
  },
  {
    name: 'enums by name, by number and nested enums',
    input: 'input { data_type: TYPE_FP32 format: 2 }\ninstance_group { kind: KIND_GPU gpus: [0, 1] }\ninstance_group { kind: 3 }',
    output: {
      input: [{ data_type: 'TYPE_FP32', format: 'FORMAT_NCHW' }],
      instance_group: [{ kind: 'KIND_GPU', gpus: [0, 1] }, { kind: 'KIND_MODEL' }],
    },
  },
  { name: 'strings in double and single quotes', input: `name: "dq" platform: 'sq'`, output: { name: 'dq', platform: 'sq' } },
  {
    name: 'string escapes',
    input: String.raw`name: "a\nb\tc\"d\'e\\f\x41\101\u00e9\r\a\?" platform: '\'' backend: "\x4a\0"`,
    output: { name: 'a\nb\tc"d\'e\\fAAé\r\x07?', platform: "'", backend: 'J\0' },
  },
  {
    name: 'octal and hex escapes that spell UTF-8, and literal UTF-8',
    input: String.raw`name: "\303\251\xc3\xa9" platform: "modèle ✓ 🐳"`,
    output: { name: 'éé', platform: 'modèle ✓ 🐳' },
  },
  {
    name: 'adjacent strings concatenated, across lines and quote kinds',
    input: 'name: "ab" \'cd\'\n  "ef"',
    output: { name: 'abcdef' },
  },
  {
    name: 'decimal, negative, hex and octal integers',
    input: 'max_batch_size: 0x10 input { dims: [-1, 0, 010, 0XfF, 2147483648] }',
    output: { max_batch_size: 16, input: [{ dims: [-1, 0, 8, 255, 2147483648] }] },
  },
  {
    name: 'the int32 and safe int64 limits',
    input: 'max_batch_size: -2147483648 input { dims: [9007199254740991, -9007199254740991] } instance_group { gpus: 2147483647 }',
    output: {
      max_batch_size: -2147483648,
      input: [{ dims: [9007199254740991, -9007199254740991] }],
      instance_group: [{ gpus: [2147483647] }],
    },
  },
  {
    name: 'uint64 and uint32 fields',
    input: 'dynamic_batching { max_queue_delay_microseconds: 4294967296 default_queue_policy { max_queue_size: 4294967295 } }',
    output: { dynamic_batching: { max_queue_delay_microseconds: 4294967296, default_queue_policy: { max_queue_size: 4294967295 } } },
  },
  {
    name: 'floats: decimals, exponents, f suffix, integers, inf and nan',
    input: `model_metrics { metric_control { histogram_options {
      buckets: [1.5, 1e3, -2.5f, .5, 2, 1E-2, 3., inf, -inf, Infinity, nan, -0.25F]
    } } }`,
    output: {
      model_metrics: {
        metric_control: [{ histogram_options: { buckets: [1.5, 1000, -2.5, 0.5, 2, 0.01, 3, Infinity, -Infinity, Infinity, NaN, -0.25] } }],
      },
    },
  },
  {
    name: 'a singular float field',
    input: 'sequence_batching { direct { minimum_slot_utilization: 0.5 } }',
    output: { sequence_batching: { direct: { minimum_slot_utilization: 0.5 } } },
  },
  {
    name: 'booleans in every spelling',
    input: `sequence_batching { control_input { name: "START" control {
      kind: CONTROL_SEQUENCE_START
      bool_false_true: [true, True, t, 1, false, False, f, 0]
      int32_false_true: [0, 1]
      fp32_false_true: [0, 1.0]
    } } }`,
    output: {
      sequence_batching: {
        control_input: [{
          name: 'START',
          control: [{
            kind: 'CONTROL_SEQUENCE_START',
            bool_false_true: [true, true, true, true, false, false, false, false],
            int32_false_true: [0, 1],
            fp32_false_true: [0, 1],
          }],
        }],
      },
    },
  },
  {
    name: 'map entries in every form, with a missing value and a missing key',
    input: `parameters { key: "a" value { string_value: "1" } }
      parameters: { key: 'b', value: { string_value: "2" } }
      parameters < value < string_value: "no key" > >
      parameters [ { key: "c" value { string_value: "3" } }, { key: "d" } ]
      metric_tags { key: "team" value: "vision" }`,
    output: {
      parameters: {
        a: { string_value: '1' },
        b: { string_value: '2' },
        '': { string_value: 'no key' },
        c: { string_value: '3' },
        d: {},
      },
      metric_tags: { team: 'vision' },
    },
  },
  {
    name: 'a map with uint64 keys and message values',
    input: 'dynamic_batching { priority_levels: 2 priority_queue_policy { key: 2 value { timeout_action: DELAY default_timeout_microseconds: 10 } } }',
    output: {
      dynamic_batching: {
        priority_levels: 2,
        priority_queue_policy: { 2: { timeout_action: 'DELAY', default_timeout_microseconds: 10 } },
      },
    },
  },
  {
    name: 'a map key that is __proto__ stays a plain key',
    input: 'metric_tags { key: "__proto__" value: "x" }',
    output: { metric_tags: JSON.parse('{"__proto__": "x"}') },
  },
  {
    name: 'oneof members written as plain fields',
    input: `version_policy { latest { num_versions: 2 } }
      sequence_batching { oldest { max_candidate_sequences: 4 preferred_batch_size: [2] } max_sequence_idle_microseconds: 5000000 }
      model_warmup { name: "w" batch_size: 1 inputs { key: "IN" value { data_type: TYPE_FP32 dims: [4] random_data: true } } }`,
    output: {
      version_policy: { latest: { num_versions: 2 } },
      sequence_batching: { oldest: { max_candidate_sequences: 4, preferred_batch_size: [2] }, max_sequence_idle_microseconds: 5000000 },
      model_warmup: [{ name: 'w', batch_size: 1, inputs: { IN: { data_type: 'TYPE_FP32', dims: [4], random_data: true } } }],
    },
  },
  {
    name: 'whitespace of every kind, a byte order mark and no final newline',
    input: '\uFEFF\tname:\r\n"x"\f\vmax_batch_size :1',
    output: { name: 'x', max_batch_size: 1 },
  },
];

const errors: Case[] = [
  { name: 'an unknown top-level field', input: 'name: "x"\nfoo: 1', error: /^config\.pbtxt:2:1: unknown field 'foo' in inference\.ModelConfig$/ },
  { name: 'an unknown field in a nested message', input: 'input {\n  name: "a"\n  foo: 1\n}', error: /^config\.pbtxt:3:3: unknown field 'foo' in inference\.ModelInput$/ },
  { name: 'a scalar field without a colon', input: '\nmax_batch_size 8', error: /^config\.pbtxt:2:16: expected ':' or '\{' after field 'max_batch_size', got '8'$/ },
  { name: 'a scalar field followed by a brace', input: 'max_batch_size { }', error: /^config\.pbtxt:1:16: expected ':' or '\{' after field 'max_batch_size', got '\{'$/ },
  { name: 'an unknown enum name', input: 'input {\n data_type: abc }', error: /^config\.pbtxt:2:13: invalid value 'abc' for enum inference\.DataType of field 'data_type'$/ },
  { name: 'an enum number that is not defined', input: 'input { data_type: 99 }', error: /:1:20: invalid value '99' for enum inference\.DataType of field 'data_type'$/ },
  { name: 'a negative enum number', input: 'input { format: -1 }', error: /:1:17: invalid value '-1' for enum inference\.ModelInput\.Format/ },
  { name: 'an enum value of another enum', input: 'instance_group { kind: TYPE_FP32 }', error: /invalid value 'TYPE_FP32' for enum inference\.ModelInstanceGroup\.Kind of field 'kind'/ },
  { name: 'an int32 above its range', input: '\n\nmax_batch_size: 3000000000', error: /^config\.pbtxt:3:17: value 3000000000 out of range for int32 field 'max_batch_size'$/ },
  { name: 'an int32 below its range', input: 'max_batch_size: -2147483649', error: /:1:17: value -2147483649 out of range for int32 field 'max_batch_size'$/ },
  { name: 'a negative uint64', input: 'dynamic_batching {\n max_queue_delay_microseconds: -1 }', error: /:2:32: value -1 out of range for uint64 field 'max_queue_delay_microseconds'/ },
  { name: 'a uint32 above its range', input: 'model_warmup { count: 4294967296 }', error: /:1:23: value 4294967296 out of range for uint32 field 'count'$/ },
  { name: 'an int64 beyond Number.MAX_SAFE_INTEGER', input: 'input { dims: [1,\n 9007199254740992] }', error: /:2:2: value 9007199254740992 out of range for int64 field 'dims' \(64-bit integers must fit/ },
  { name: 'a float for an integer field', input: 'max_batch_size: 1.5', error: /:1:17: invalid value '1\.5' for int32 of field 'max_batch_size'$/ },
  { name: 'a malformed number', input: 'max_batch_size: 12abc', error: /:1:17: invalid value '12abc' for int32 of field 'max_batch_size'$/ },
  { name: 'a malformed float', input: 'sequence_batching { direct { minimum_slot_utilization: 1.2.3 } }', error: /invalid value '1\.2\.3' for float of field 'minimum_slot_utilization'/ },
  { name: 'a word for a float field', input: 'sequence_batching { direct { minimum_slot_utilization: half } }', error: /invalid value 'half' for float/ },
  { name: 'a quoted number for an integer field', input: 'max_batch_size: "8"', error: /:1:17: expected a value for int32 field 'max_batch_size', got string "8"$/ },
  { name: 'a bare word for a string field', input: 'name: simple', error: /:1:7: expected a quoted string for string field 'name', got 'simple'$/ },
  { name: 'a bad boolean', input: 'response_cache { enable: yes }', error: /:1:26: invalid value 'yes' for bool of field 'enable'$/ },
  { name: 'a negative boolean', input: 'response_cache { enable: -1 }', error: /:1:26: invalid value '-1' for bool of field 'enable'$/ },
  { name: 'a string that runs past the end of its line', input: 'name: "abc\nplatform: "x"', error: /^config\.pbtxt:1:7: unterminated string$/ },
  { name: 'a string that runs past the end of input', input: "\nname: 'abc", error: /^config\.pbtxt:2:7: unterminated string$/ },
  { name: 'an invalid escape', input: 'name: "a\\qb"', error: /:1:9: invalid escape '\\q' in string$/ },
  { name: 'a \\x escape without digits', input: 'name: "\\xZ"', error: /:1:8: escape '\\x' needs hex digits$/ },
  { name: 'a short \\u escape', input: 'name: "\\u12"', error: /:1:8: escape '\\u' needs 4 hex digits/ },
  { name: 'an octal escape above 255', input: 'name: "\\777"', error: /:1:8: octal escape '\\777' is above \\377$/ },
  { name: 'bytes that are not UTF-8', input: 'name: "\\xff"', error: /:1:7: string for field 'name' is not valid UTF-8$/ },
  { name: 'an unclosed message', input: 'dynamic_batching {\n  max_queue_delay_microseconds: 100\n', error: /^config\.pbtxt:3:1: unexpected end of input: '\{' of field 'dynamic_batching' opened at line 1 is never closed$/ },
  { name: 'input that ends after a colon', input: 'max_batch_size:', error: /:1:16: unexpected end of input, expected a value for int32 field 'max_batch_size'$/ },
  { name: 'input that ends after a field name', input: 'name', error: /:1:5: unexpected end of input, expected ':' or '\{' after field 'name'$/ },
  { name: 'input that ends inside a list', input: 'input { dims: [1, 2', error: /:1:20: unexpected end of input, expected ',' or '\]' in the list of field 'dims'$/ },
  { name: 'a trailing comma in a list', input: 'input { dims: [1, 2,] }', error: /:1:21: expected a value for int64 field 'dims', got '\]'$/ },
  { name: 'a closing brace without an opening one', input: 'name: "x"\n}', error: /^config\.pbtxt:2:1: unbalanced braces: '\}' has no matching opening$/ },
  { name: 'a message closed with the wrong bracket', input: 'input <\n name: "a" }', error: /:2:12: expected '>' to close field 'input' opened at line 1, got '\}'$/ },
  { name: 'a singular field given twice', input: 'max_batch_size: 1\nmax_batch_size: 2', error: /^config\.pbtxt:2:1: field 'max_batch_size' is given twice \(first at line 1\)$/ },
  { name: 'a singular message given twice', input: 'optimization { }\n\noptimization { }', error: /:3:1: field 'optimization' is given twice \(first at line 1\)$/ },
  { name: 'two members of one oneof', input: 'dynamic_batching { }\nsequence_batching { }', error: /:2:1: field 'sequence_batching' and field 'dynamic_batching' \(line 1\) are both in oneof 'scheduling_choice'$/ },
  { name: 'a list for a singular field', input: 'max_batch_size: [1]', error: /:1:17: field 'max_batch_size' is not repeated, so it takes no list$/ },
  { name: 'a list without commas', input: 'input { dims: [1 2] }', error: /:1:18: expected ',' or '\]' in the list of field 'dims', got '2'$/ },
  { name: 'a list of scalars without a colon', input: 'input { dims [1] }', error: /:1:14: expected ':' or '\{' after field 'dims', got '\['$/ },
  { name: 'a duplicate map key', input: 'parameters { key: "a" }\nparameters { key: "a" }', error: /:2:12: duplicate key 'a' in map field 'parameters'$/ },
  { name: 'an unknown field in a map entry', input: 'parameters { name: "a" }', error: /:1:14: unknown field 'name' in the map entry of field 'parameters'$/ },
  { name: 'a map value of the wrong kind', input: 'parameters { key: "a" value: "x" }', error: /:1:30: expected '\{' to open field 'value', got string "x"$/ },
  { name: 'a scalar for a message field', input: 'dynamic_batching: 5', error: /:1:19: expected '\{' to open field 'dynamic_batching', got '5'$/ },
  { name: 'a value where a field name belongs', input: 'name: "a" "b" : 3', error: /:1:15: expected a field name, got ':'$/ },
  { name: 'an unexpected character', input: 'name: "a"\n@', error: /^config\.pbtxt:2:1: unexpected character '@'$/ },
];

const type = modelConfigType();

/** Prints a parsed object back as pbtxt, one field per line, maps as entries. */
function toPbtxt(object: Plain, messageType: protobuf.Type, indent = ''): string {
  const scalar = (value: unknown, field: protobuf.Field | undefined, keyType?: string): string => {
    if (typeof value === 'string') return field?.resolvedType instanceof protobuf.Enum && !keyType ? value : JSON.stringify(value);
    if (typeof value === 'number' && !Number.isFinite(value)) return Number.isNaN(value) ? 'nan' : value > 0 ? 'inf' : '-inf';
    return String(value);
  };
  const body = (value: unknown, field: protobuf.Field): string =>
    field.resolvedType instanceof protobuf.Type
      ? `{\n${toPbtxt(value as Plain, field.resolvedType, `${indent}  `)}${indent}}`
      : `: ${scalar(value, field)}`;
  const lines: string[] = [];
  for (const [name, value] of Object.entries(object)) {
    const field = messageType.fields[name];
    if (field.map) {
      const keyType = field instanceof protobuf.MapField ? field.keyType : 'string';
      for (const [key, item] of Object.entries(value as Plain)) {
        const keyText = keyType === 'string' ? JSON.stringify(key) : key;
        lines.push(`${indent}${name} { key: ${keyText} value ${body(item, field)} }`);
      }
    } else if (field.repeated) {
      for (const item of value as unknown[]) lines.push(`${indent}${name} ${body(item, field)}`);
    } else {
      lines.push(`${indent}${name} ${body(value, field)}`);
    }
  }
  return lines.map((line) => `${line}\n`).join('');
}

/** Drops empty lists (`dims: []`), which the printer above writes as nothing. */
function withoutEmptyLists(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutEmptyLists);
  if (value === null || typeof value !== 'object') return value;
  const out: Plain = {};
  for (const [key, item] of Object.entries(value)) {
    if (Array.isArray(item) && item.length === 0) continue;
    Object.defineProperty(out, key, { value: withoutEmptyLists(item), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

describe('parsePbtxt', () => {
  for (const c of successes) {
    it(`parses ${c.name}`, () => {
      const parsed = parsePbtxt(c.input, type, 'config.pbtxt');
      assert.deepStrictEqual(parsed, c.output);
    });

    it(`round-trips ${c.name} through text, protobufjs, the wire and Triton JSON`, () => {
      const parsed = parsePbtxt(c.input, type, 'config.pbtxt');
      // Printed back as text and parsed again, it gives the same object.
      assert.deepStrictEqual(parsePbtxt(toPbtxt(parsed, type), type), withoutEmptyLists(parsed));
      // protobufjs accepts it as a ModelConfig.
      const message = type.fromObject(parsed);
      assert.equal(type.verify(message), null);
      // Encoded and decoded, it prints the same Triton JSON.
      const decoded = type.toObject(type.decode(type.encode(message).finish()), { longs: Number, enums: String });
      const json = toTritonJson(parsed);
      assert.deepStrictEqual(toTritonJson(decoded), json);
      // And that JSON is plain JSON.
      assert.deepStrictEqual(JSON.parse(JSON.stringify(json)), json);
    });
  }

  for (const c of errors) {
    it(`rejects ${c.name}, naming the line`, () => {
      assert.throws(
        () => parsePbtxt(c.input, type, 'config.pbtxt'),
        (err: unknown) => {
          assert.ok(err instanceof PbtxtError, `expected a PbtxtError, got ${String(err)}`);
          assert.match(err.message, c.error!);
          const [, line, column] = /^config\.pbtxt:(\d+):(\d+): /.exec(err.message) ?? [];
          assert.equal(err.line, Number(line));
          assert.equal(err.column, Number(column));
          assert.equal(err.message, `config.pbtxt:${err.line}:${err.column}: ${err.detail}`);
          return true;
        },
      );
    });
  }

  it('reports the path of the field involved', () => {
    const cases: Array<[string, string]> = [
      ['input { name: "a" } input { dims: [1, x] }', 'input[1].dims[1]'],
      ['input { foo: 1 }', 'input[0].foo'],
      ['dynamic_batching { default_queue_policy { max_queue_size: -1 } }', 'dynamic_batching.default_queue_policy.max_queue_size'],
      ['max_batch_size: 1 max_batch_size: 2', 'max_batch_size'],
    ];
    for (const [input, field] of cases) {
      assert.throws(() => parsePbtxt(input, type), (err: unknown) => err instanceof PbtxtError && err.field === field);
    }
  });

  it('names the input <input> when no source is given', () => {
    assert.throws(() => parsePbtxt('foo: 1', type), { message: "<input>:1:1: unknown field 'foo' in inference.ModelConfig" });
  });

  it('parses against any message type, not only ModelConfig', () => {
    const inputType = type.lookupType('inference.ModelInput');
    assert.deepStrictEqual(parsePbtxt('name: "x" dims: [2]', inputType), { name: 'x', dims: [2] });
    assert.throws(() => parsePbtxt('max_batch_size: 1', inputType), /unknown field 'max_batch_size' in inference\.ModelInput/);
  });

  it('does not treat inherited object properties as fields', () => {
    assert.throws(() => parsePbtxt('constructor: 1', type), /unknown field 'constructor'/);
    assert.throws(() => parsePbtxt('__proto__ { }', type), /unknown field '__proto__'/);
  });
});
