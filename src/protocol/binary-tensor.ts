/**
 * Triton's binary tensor data extension: a JSON header of `Inference-Header-Content-Length`
 * bytes, then each binary tensor's raw bytes in the order the header lists them. BYTES elements
 * are each a 4-byte little-endian length followed by that many bytes.
 */
import { serverError } from '../errors.ts';

/** Splits a body into its JSON header and the binary part after it. */
export function splitBinaryBody(body: Buffer, headerLengthText: string): { header: Buffer; binary: Buffer } {
  if (!/^[0-9]+$/.test(headerLengthText.trim())) {
    throw serverError('BAD_HEADER_LENGTH', `must be a non-negative integer`);
  }
  const headerLength = Number(headerLengthText.trim());
  if (headerLength > body.length) {
    throw serverError('BAD_HEADER_LENGTH', `is ${headerLength}, past the end of the ${body.length}-byte body`);
  }
  return { header: body.subarray(0, headerLength), binary: body.subarray(headerLength) };
}

// The BYTES element codec moved to a shared leaf (client shared memory uses it too).
export { decodeBytesElements, encodeBytesElements } from '../bytes-elements.ts';
