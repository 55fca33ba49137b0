/**
 * Errors fit and do not leak (issue 13): request values are quoted (a short prefix and the
 * length), messages are capped, and a gRPC status always fits a header block and encodes.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { capMessage, kMaxMessageChars, kQuotedChars, quote, serverError } from '../../src/errors.ts';
import { capGrpcDetails, grpcErrorReply, httpErrorReply, kMaxGrpcDetailsBytes } from '../../src/api/shared/error-reply.ts';

describe('quote', () => {
  test('shows a short value as it is, and a long one as its prefix and its length', () => {
    assert.equal(quote('simple'), 'simple');
    assert.equal(quote('m'.repeat(kQuotedChars)), 'm'.repeat(kQuotedChars));
    assert.equal(quote('m'.repeat(100_000)), `${'m'.repeat(kQuotedChars)}… (100000 characters)`);
    assert.equal(quote(42), '42');
  });

  test('escapes control characters and never leaves half a surrogate pair', () => {
    assert.equal(quote('a\nb\u0000'), 'a\\x0ab\\x00');
    const cut = quote(`${'a'.repeat(kQuotedChars - 1)}😀${'b'.repeat(10)}`);
    assert.doesNotThrow(() => encodeURI(cut));
  });

  test('every %v of the error table goes through it', () => {
    const big = 'v'.repeat(1 << 20);
    const err = serverError('UNKNOWN_MODEL', big);
    assert.equal(err.message, `Request for unknown model: '${'v'.repeat(kQuotedChars)}… (1048576 characters)' is not found`);
    assert.ok(serverError('WRONG_DATATYPE', big, big, big, big, 'INT32').message.length < 600);
  });
});

describe('message caps', () => {
  test('a ServerError keeps at most kMaxMessageChars characters, saying the length', () => {
    const err = serverError('BAD_REQUEST', 'x'.repeat(100_000));
    assert.ok(err.message.length < kMaxMessageChars + 80);
    assert.match(err.message, /message cut at 4096 of 100000 characters\)$/);
    assert.equal(capMessage('short'), 'short');
  });

  test('a gRPC status message fits a header block once percent-encoded, whatever its characters', () => {
    for (const unit of ['x', 'é', '日', '😀', '\ud800']) {
      const details = capGrpcDetails(unit.repeat(50_000));
      assert.ok(Buffer.byteLength(details) <= kMaxGrpcDetailsBytes, unit);
      assert.ok(encodeURI(details).length < 8 * 1024, unit);
    }
    assert.equal(grpcErrorReply(new Error('y'.repeat(1e6))).details.length < kMaxGrpcDetailsBytes, true);
  });

  test('an HTTP error body stays small whatever the thrown message', () => {
    assert.ok(httpErrorReply(new Error('z'.repeat(1e6)), { maxInputSizeBytes: 1 }).body.error.length < kMaxMessageChars + 80);
  });
});
