import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeBytesElements, encodeBytesElements, splitBinaryBody } from '../../src/protocol/binary-tensor.ts';

describe('splitBinaryBody', () => {
  test('splits the body at the header length', () => {
    const body = Buffer.from('{"a":1}BINARY');
    const { header, binary } = splitBinaryBody(body, '7');
    assert.equal(header.toString(), '{"a":1}');
    assert.equal(binary.toString(), 'BINARY');
  });

  test('accepts a header that fills the whole body, leaving no binary part', () => {
    const { header, binary } = splitBinaryBody(Buffer.from('{}'), ' 2 ');
    assert.equal(header.toString(), '{}');
    assert.equal(binary.length, 0);
  });

  test('refuses a header length past the end of the body', () => {
    assert.throws(() => splitBinaryBody(Buffer.from('{}'), '3'), {
      reason: 'BAD_HEADER_LENGTH', httpStatus: 400, message: 'Inference-Header-Content-Length is 3, past the end of the 2-byte body',
    });
  });

  for (const text of ['', 'abc', '-1', '1.5', '0x10', '1e2', '12abc']) {
    test(`refuses the header length '${text}', which is not a non-negative integer`, () => {
      assert.throws(() => splitBinaryBody(Buffer.from('{}xx'), text), {
        reason: 'BAD_HEADER_LENGTH', message: 'Inference-Header-Content-Length must be a non-negative integer',
      });
    });
  }
});

describe('BYTES elements', () => {
  test('are written as a 4-byte little-endian length and the UTF-8 bytes', () => {
    assert.deepEqual(encodeBytesElements(['ab', '', 'é']), Buffer.from([2, 0, 0, 0, 0x61, 0x62, 0, 0, 0, 0, 2, 0, 0, 0, 0xc3, 0xa9]));
    assert.deepEqual(encodeBytesElements([]), Buffer.alloc(0));
  });

  test('round-trip through encode and decode, unicode and long strings included', () => {
    const values = ['', 'a', 'héllo wörld', '日本語', '🙂👍🏽', 'x'.repeat(70000), '\n"'];
    assert.deepEqual(decodeBytesElements(encodeBytesElements(values), values.length, 'input'), values);
    // A NUL is carried by the binary form (and the client's lossy one), refused by the text form.
    const nul = ['\u0000\n"'];
    assert.deepEqual(decodeBytesElements(encodeBytesElements(nul), 1, 'input', 'lossy'), nul);
    assert.throws(() => decodeBytesElements(encodeBytesElements(nul), 1, 'input'), /element 0 contains a NUL byte/);
  });

  test('decode from a view that does not start at its buffer', () => {
    const encoded = encodeBytesElements(['abc', 'de']);
    const body = Buffer.concat([Buffer.from('header'), encoded]);
    assert.deepEqual(decodeBytesElements(body.subarray(6), 2, 'input'), ['abc', 'de']);
  });

  test('refuse data with fewer elements than the shape needs', () => {
    assert.throws(() => decodeBytesElements(encodeBytesElements(['a']), 2, "input 'X'"),
      { message: "input 'X' holds fewer than the 2 BYTES elements its shape needs" });
    assert.throws(() => decodeBytesElements(Buffer.from([1, 0]), 1, "input 'X'"), { message: /holds fewer than the 1 BYTES elements/ });
  });

  test('refuse a length prefix past the end of the data', () => {
    const bytes = Buffer.from([5, 0, 0, 0, 0x61, 0x62]);
    assert.throws(() => decodeBytesElements(bytes, 1, "input 'X'"), { message: "input 'X': BYTES element 0 has length 5, past the end of the data" });
    const huge = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x61]);
    assert.throws(() => decodeBytesElements(huge, 1, "input 'X'"), { message: /length 4294967295, past the end/ });
  });

  test('refuse bytes left over after the elements the shape needs', () => {
    const bytes = Buffer.concat([encodeBytesElements(['a', 'b']), Buffer.from([0, 0, 0])]);
    assert.throws(() => decodeBytesElements(bytes, 2, "input 'X'"), { message: "input 'X' holds 3 bytes beyond the 2 BYTES elements its shape needs" });
  });
});
