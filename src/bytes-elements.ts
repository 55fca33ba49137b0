/**
 * Triton's serialization of BYTES tensors, shared by the binary tensor extension, client
 * shared-memory regions and the client: each element is a 4-byte little-endian length followed
 * by that many bytes. A leaf: it imports nothing from the four folders.
 *
 * Inside the server a BYTES element is a JavaScript string, in one of two forms, chosen by what
 * the model's backend can carry (docs/limits.md, "BYTES are exact or refused"):
 *
 * - 'text' (onnxruntime): the element's bytes must be UTF-8 without a NUL byte, and the string is
 *   their decoding. onnxruntime-node turns strings into C strings of UTF-8 and back, so exactly
 *   these elements make the round trip (measured: a NUL ends the element there, invalid UTF-8
 *   comes back as U+FFFD). Any other element is refused, with its index, never changed.
 * - 'binary' (a backend that declares `rawBytes`): every byte sequence is carried; the string
 *   holds one character per byte (0–255, Node's 'latin1').
 * - 'lossy' (the client only, reading answers as text): the UTF-8 decoding, U+FFFD where the
 *   bytes are not UTF-8. The server never uses it.
 */
import { isUtf8 } from 'node:buffer';
import { isWellFormed } from './errors.ts';

/** How BYTES elements are held as strings: see the module comment. */
export type BytesForm = 'text' | 'binary' | 'lossy';

const utf8 = new TextDecoder('utf-8');

/** A BYTES element that the 'text' form cannot carry exactly: its index and what is wrong with it. */
export class InexactBytesElement extends Error {
  constructor(readonly index: number, readonly why: string) {
    super(`element ${index} ${why}`);
    this.name = 'InexactBytesElement';
  }
}

/** Why the bytes cannot be carried as text, or null when they can. */
export function textFault(bytes: Uint8Array): string | null {
  if (bytes.indexOf(0) !== -1) return 'contains a NUL byte';
  if (!isUtf8(bytes)) return 'is not valid UTF-8';
  return null;
}

/** One element's bytes as a string of `form`; throws InexactBytesElement for text it cannot carry. */
export function bytesToElement(bytes: Uint8Array, index: number, form: BytesForm): string {
  if (form === 'binary') return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  if (form === 'lossy') return utf8.decode(bytes);
  const fault = textFault(bytes);
  if (fault !== null) throw new InexactBytesElement(index, fault);
  return utf8.decode(bytes);
}

/**
 * A string given as such (a JSON string) as an element of `form`: its UTF-8 bytes are the
 * element. Throws InexactBytesElement when it has no UTF-8 form (a lone surrogate) or, as
 * text, holds a NUL.
 */
export function stringToElement(value: string, index: number, form: BytesForm): string {
  if (!isWellFormed(value)) throw new InexactBytesElement(index, 'is not valid Unicode (it holds a lone surrogate, which has no UTF-8 form)');
  if (form === 'binary') return Buffer.from(value, 'utf8').toString('latin1');
  if (form === 'lossy') return value;
  if (value.includes('\0')) throw new InexactBytesElement(index, 'contains a NUL character');
  return value;
}

/** An element's bytes: its UTF-8 encoding as text, one byte per character as binary. */
export function elementBytes(value: string, form: BytesForm = 'text'): Buffer {
  return Buffer.from(value, form === 'binary' ? 'latin1' : 'utf8');
}

/**
 * Reads `count` length-prefixed BYTES elements; throws an Error when they do not exactly fill
 * `bytes`, and an InexactBytesElement for an element that `form` cannot carry.
 */
export function decodeBytesElements(bytes: Uint8Array, count: number, what: string, form: BytesForm = 'text'): string[] {
  const out: string[] = new Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  for (let i = 0; i < count; i++) {
    if (pos + 4 > bytes.length) throw new Error(`${what} holds fewer than the ${count} BYTES elements its shape needs`);
    const len = view.getUint32(pos, true);
    pos += 4;
    if (pos + len > bytes.length) throw new Error(`${what}: BYTES element ${i} has length ${len}, past the end of the data`);
    out[i] = bytesToElement(bytes.subarray(pos, pos + len), i, form);
    pos += len;
  }
  if (pos !== bytes.length) throw new Error(`${what} holds ${bytes.length - pos} bytes beyond the ${count} BYTES elements its shape needs`);
  return out;
}

/** Writes strings (of `form`) as length-prefixed BYTES elements. */
export function encodeBytesElements(values: readonly string[], form: BytesForm = 'text'): Buffer {
  const parts = values.map((v) => elementBytes(v, form));
  const out = Buffer.allocUnsafe(parts.reduce((n, p) => n + 4 + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.writeUInt32LE(p.length, pos);
    p.copy(out, pos + 4);
    pos += 4 + p.length;
  }
  return out;
}
