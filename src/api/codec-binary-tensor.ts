/**
 * Triton's binary tensor data extension: a JSON header of `Inference-Header-Content-Length`
 * bytes, then each binary tensor's raw bytes in the order the header lists them. BYTES elements
 * are each a 4-byte little-endian length followed by that many bytes.
 */
import { serverError } from '../errors.ts';

const utf8 = new TextDecoder('utf-8');

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

/** Reads `count` length-prefixed BYTES elements; throws when they do not exactly fill `bytes`. */
export function decodeBytesElements(bytes: Uint8Array, count: number, what: string): string[] {
  const out: string[] = new Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  for (let i = 0; i < count; i++) {
    if (pos + 4 > bytes.length) throw new Error(`${what} holds fewer than the ${count} BYTES elements its shape needs`);
    const len = view.getUint32(pos, true);
    pos += 4;
    if (pos + len > bytes.length) throw new Error(`${what}: BYTES element ${i} has length ${len}, past the end of the data`);
    out[i] = utf8.decode(bytes.subarray(pos, pos + len));
    pos += len;
  }
  if (pos !== bytes.length) throw new Error(`${what} holds ${bytes.length - pos} bytes beyond the ${count} BYTES elements its shape needs`);
  return out;
}

/** Writes strings as length-prefixed BYTES elements. */
export function encodeBytesElements(values: readonly string[]): Buffer {
  const parts = values.map((v) => Buffer.from(v, 'utf8'));
  const out = Buffer.allocUnsafe(parts.reduce((n, p) => n + 4 + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.writeUInt32LE(p.length, pos);
    p.copy(out, pos + 4);
    pos += 4 + p.length;
  }
  return out;
}
