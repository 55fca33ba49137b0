/**
 * Triton's serialization of BYTES tensors, shared by the binary tensor extension, client
 * shared-memory regions and the client: each element is a 4-byte little-endian length followed
 * by that many bytes. A leaf: it imports nothing from the four folders.
 */

const utf8 = new TextDecoder('utf-8');

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
