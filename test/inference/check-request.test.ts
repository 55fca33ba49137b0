/**
 * checkRequest as a table, in the grpc-js style: each case is a request header against a model's
 * config, and either passes or is refused with a reason and a message. Every refusal the HTTP and
 * gRPC end-to-end tests assert for a bad header (test/api/http/http-errors, test/api/grpc/
 * grpc-bad-input) is here once, at the unit level, with the other cases of each rule.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { datatypeFromWire } from '../../src/dtypes.ts';
import { ServerError, type ErrorReason } from '../../src/errors.ts';
import { checkRequest, checkRequestParameters, type InputHeader } from '../../src/inference/infer-request.ts';
import type { ModelConfig } from '../../src/model-config/index.ts';

const tensor = (name: string, wire: string, dims: number[], optional = false) =>
  ({ name, datatype: datatypeFromWire(wire)!, dims, reshape: null, optional });

/** A batching model: two required inputs, one optional, two outputs. */
const batched = {
  name: 'm',
  maxBatchSize: 8,
  inputs: [tensor('A', 'INT32', [16]), tensor('B', 'FP32', [2, -1]), tensor('OPT', 'FP16', [1], true)],
  outputs: [tensor('Y', 'INT32', [16]), tensor('Z', 'FP32', [2, -1])],
} as unknown as ModelConfig;

/** A model without batching: its one input's shape is its dims exactly. */
const unbatched = {
  name: 'u',
  maxBatchSize: 0,
  inputs: [tensor('X', 'INT64', [-1, 3])],
  outputs: [tensor('Y', 'INT64', [-1, 3])],
} as unknown as ModelConfig;

const A = (shape: unknown[] = [1, 16], datatype = 'INT32'): InputHeader => ({ name: 'A', datatype, shape: shape as number[] });
const B = (shape: unknown[] = [1, 2, 5], datatype = 'FP32'): InputHeader => ({ name: 'B', datatype, shape: shape as number[] });
const OPT = (shape: number[] = [1, 1]): InputHeader => ({ name: 'OPT', datatype: 'FP16', shape });
const X = (shape: number[]): InputHeader => ({ name: 'X', datatype: 'INT64', shape });
const outs = (...names: string[]) => names.map((name) => ({ name }));

interface Case {
  readonly name: string;
  readonly input: {
    readonly config?: ModelConfig;
    readonly id?: string;
    readonly inputs: readonly InputHeader[];
    readonly outputs?: readonly { name: string }[] | null;
  };
  /** The refusal's reason; set with `error`. */
  readonly reason?: ErrorReason;
  readonly error?: RegExp;
}

const cases: Case[] = [
  // Accepted.
  { name: 'the required inputs, with all outputs', input: { inputs: [A(), B()] } },
  { name: 'inputs in any order, with the optional one, and each output asked for once', input: { inputs: [OPT([3, 1]), B([3, 2, 7]), A([3, 16])], outputs: outs('Z', 'Y') } },
  { name: 'a batch of exactly max_batch_size', input: { inputs: [A([8, 16]), B([8, 2, 1])] } },
  { name: 'a variable dim of zero', input: { inputs: [A(), B([1, 2, 0])] } },
  { name: 'an empty output list', input: { inputs: [A(), B()], outputs: [] } },
  { name: 'a model without batching, its variable dim of any size', input: { config: unbatched, inputs: [X([5, 3])] } },

  // Inputs the model does not have, or given twice.
  { name: 'an unknown input', input: { inputs: [A(), B(), { name: 'C', datatype: 'INT32', shape: [1] }] }, reason: 'UNKNOWN_INPUT', error: /^unexpected inference input 'C' for model 'm'$/ },
  { name: 'an input given twice', input: { inputs: [A(), B(), A()] }, reason: 'DUPLICATE_INPUT', error: /^input 'A' is given more than once for model 'm'$/ },

  // Datatypes.
  { name: 'an unknown datatype', input: { inputs: [A([1, 16], 'FP8'), B()] }, reason: 'BAD_DATA', error: /^\[request id: <id_unknown>\] input 'A' has unknown datatype 'FP8'$/ },
  { name: 'a lower-case datatype', input: { inputs: [A([1, 16], 'int32'), B()] }, reason: 'BAD_DATA', error: /unknown datatype 'int32'/ },
  { name: 'the wrong datatype', input: { id: 'r1', inputs: [A([1, 16], 'FP32'), B()] }, reason: 'WRONG_DATATYPE', error: /^\[request id: r1\] inference input 'A' data-type is 'FP32', but model 'm' expects 'INT32'$/ },

  // Shapes.
  { name: 'a shape of the wrong rank', input: { inputs: [A([16]), B()] }, reason: 'WRONG_SHAPE', error: /unexpected shape for input 'A' for model 'm'\. Expected \[-1,16\], got \[16\]/ },
  { name: 'a wrong fixed dim', input: { inputs: [A(), B([1, 3, 5])] }, reason: 'WRONG_SHAPE', error: /unexpected shape for input 'B' for model 'm'\. Expected \[-1,2,-1\], got \[1,3,5\]/ },
  { name: 'a negative dim', input: { inputs: [A([1, -16]), B()] }, reason: 'WRONG_SHAPE', error: /Expected non-negative integer dims, got \[1,-16\]\. Each dim must be a non-negative integer\.$/ },
  { name: 'a fractional dim', input: { inputs: [A([1, 1.5]), B()] }, reason: 'WRONG_SHAPE', error: /got \[1,1\.5\]\. Each dim must be a non-negative integer/ },
  { name: 'a dim that is not a number, named by its type only', input: { inputs: [A([1, '16']), B()] }, reason: 'WRONG_SHAPE', error: /Expected non-negative integer dims, got \[1,string\]/ },
  { name: 'a shape of more than 2^31 - 1 elements', input: { inputs: [A([1, 2 ** 32]), B()] }, reason: 'WRONG_SHAPE', error: /Expected at most 2147483647 elements, got \[1,4294967296\]\. The shape is too large\./ },
  { name: 'a batch dim for a model without batching', input: { config: unbatched, inputs: [X([1, 5, 3])] }, reason: 'WRONG_SHAPE', error: /for model 'u'\. Expected \[-1,3\], got \[1,5,3\]/ },

  // Batch sizes.
  { name: 'a batch over max_batch_size', input: { inputs: [A([9, 16]), B([9, 2, 1])] }, reason: 'BATCH_TOO_LARGE', error: /^\[request id: <id_unknown>\] inference request batch-size must be <= 8 for 'm'$/ },
  { name: 'a batch of zero rows', input: { inputs: [A([0, 16]), B([0, 2, 1])] }, reason: 'BATCH_TOO_SMALL', error: /inference request batch-size must be >= 1 for 'm'$/ },
  { name: 'batch sizes that differ between inputs', input: { inputs: [A([2, 16]), B([1, 2, 5])] }, reason: 'WRONG_SHAPE', error: /input 'B' for model 'm'\. Expected batch size 2 as the other inputs, got \[1,2,5\]/ },

  // Missing inputs: the optional one is never required.
  { name: 'a missing required input', input: { inputs: [A(), OPT()] }, reason: 'MISSING_INPUT', error: /^expected 2 inputs but got 2 inputs for model 'm'\. Got input\(s\) \['A','OPT'\], but missing required input\(s\) \['B'\]\. Please provide all required input\(s\)\.$/ },
  { name: 'no inputs at all', input: { inputs: [] }, reason: 'MISSING_INPUT', error: /expected 2 inputs but got 0 inputs for model 'm'\. Got input\(s\) \[\], but missing required input\(s\) \['A','B'\]/ },

  // Outputs.
  { name: 'an unknown output', input: { inputs: [A(), B()], outputs: outs('Y', 'W') }, reason: 'UNKNOWN_OUTPUT', error: /^unexpected inference output 'W' for model 'm'$/ },
  { name: 'an output asked for twice', input: { inputs: [A(), B()], outputs: outs('Y', 'Y') }, reason: 'DUPLICATE_OUTPUT', error: /^output 'Y' is requested more than once for model 'm'$/ },
  { name: 'an input asked for as an output', input: { inputs: [A(), B()], outputs: outs('A') }, reason: 'UNKNOWN_OUTPUT', error: /unexpected inference output 'A'/ },
];

describe('checkRequest', () => {
  for (const c of cases) {
    const { config = batched, id, inputs, outputs = null } = c.input;
    if (c.error) {
      test(`refuses ${c.name}`, () => {
        assert.throws(() => checkRequest(config, id, inputs, outputs), (err: unknown) => {
          assert.ok(err instanceof ServerError, String(err));
          assert.equal(err.reason, c.reason);
          assert.equal(err.httpStatus, 400, 'a bad header is the client\'s error');
          assert.match(err.message, c.error!);
          return true;
        });
      });
    } else {
      test(`accepts ${c.name}`, () => {
        assert.equal(checkRequest(config, id, inputs, outputs), undefined);
      });
    }
  }

  test('has a case for every reason a header can be refused with', () => {
    const reasons = new Set(cases.map((c) => c.reason).filter(Boolean));
    assert.deepEqual([...reasons].sort(), ['BAD_DATA', 'BATCH_TOO_LARGE', 'BATCH_TOO_SMALL', 'DUPLICATE_INPUT', 'DUPLICATE_OUTPUT',
      'MISSING_INPUT', 'UNKNOWN_INPUT', 'UNKNOWN_OUTPUT', 'WRONG_DATATYPE', 'WRONG_SHAPE']);
  });
});

describe("request parameters starting with 'triton_'", () => {
  const reason = (fn: () => void): string | null => {
    try {
      fn();
      return null;
    } catch (err) {
      return (err as ServerError).message;
    }
  };

  test('HTTP takes none of them, as Triton', () => {
    assert.match(reason(() => checkRequestParameters({ triton_enable_empty_final_response: true }))!, /should not be specified\.$/);
    assert.equal(reason(() => checkRequestParameters({ my_triton_key: 1, sequence_id: 3 })), null);
  });

  test("gRPC takes the one Triton's gRPC front-end defines, and names it when refusing another", () => {
    assert.equal(reason(() => checkRequestParameters({ triton_enable_empty_final_response: true }, true)), null);
    assert.equal(reason(() => checkRequestParameters({ triton_final_response: true }, true)),
      "parameter keys starting with 'triton_' are reserved for Triton usage. Only the following keys starting with 'triton_' are allowed: triton_enable_empty_final_response");
  });
});
