/**
 * The server's response cache (Triton's `local` cache): successful responses by request key, in
 * one LRU bounded by a byte size (--cache-config=local,size=BYTES) that every model with
 * response_cache enabled shares.
 *
 * The key is a SHA-256 digest of everything that decides a response: the model, its version,
 * each input's name, datatype, shape and exact bytes (in name order), and the outputs asked for.
 * Triton hashes only the model, version, input names and bytes into 64 bits; Nereid adds the
 * datatype, shape and requested outputs (two requests that differ only there get different
 * answers) and uses a digest where a collision is not a practical concern. Request parameters are
 * not in the key: none reaches a backend (priority and timeout only schedule), and classification
 * is applied to a response after the cache, so a cached response serves any class count.
 *
 * Size: an entry counts its tensors' bytes (strings as their UTF-8 bytes and a 4-byte length, as
 * on the wire) plus a fixed allowance per entry and per output for the objects that hold them;
 * entries are evicted least recently used first until a new one fits, and an entry larger than
 * the whole cache is not kept.
 */
import { createHash } from 'node:crypto';
import type { InferOutput, InferRequest } from '../inference/index.ts';

/** A stored response: the outputs, shared by every hit (read, never written). */
export interface CachedResponse {
  readonly outputs: readonly InferOutput[];
}

interface Entry {
  readonly response: CachedResponse;
  readonly bytes: number;
}

/** The allowance for an entry's own objects (the map slot, the key, the response), in bytes. */
const kEntryOverheadBytes = 256;
/** The allowance per output (its object, name, shape), in bytes. */
const kOutputOverheadBytes = 96;

export class ResponseCache {
  private readonly entries = new Map<string, Entry>();
  private used = 0;

  constructor(readonly sizeBytes: number) {}

  /** Bytes the entries take now (never more than sizeBytes). */
  get usedBytes(): number {
    return this.used;
  }

  /** Entries held now. */
  get count(): number {
    return this.entries.size;
  }

  /** The response stored under `key`, made the most recently used; undefined on a miss. */
  lookup(key: string): CachedResponse | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    // A Map keeps insertion order: taking the entry out and back makes it the newest.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.response;
  }

  /**
   * Stores a copy of `outputs` under `key`, evicting the least recently used entries until it
   * fits. Returns false when it is already there or larger than the whole cache.
   */
  insert(key: string, outputs: readonly InferOutput[]): boolean {
    if (this.entries.has(key)) return false;
    const bytes = entryBytes(outputs);
    if (bytes > this.sizeBytes) return false;
    for (const [oldest, entry] of this.entries) {
      if (this.used + bytes <= this.sizeBytes) break;
      this.entries.delete(oldest);
      this.used -= entry.bytes;
    }
    // Copied: the response's buffers belong to the request that made them.
    const copies = outputs.map((o): InferOutput => Object.freeze({
      name: o.name,
      datatype: o.datatype,
      shape: Object.freeze([...o.shape]),
      data: Array.isArray(o.data) ? Object.freeze([...o.data]) as string[] : (o.data as ArrayBuffer).slice(0),
    }));
    this.entries.set(key, { response: Object.freeze({ outputs: Object.freeze(copies) }), bytes });
    this.used += bytes;
    return true;
  }
}

function entryBytes(outputs: readonly InferOutput[]): number {
  let bytes = kEntryOverheadBytes;
  for (const o of outputs) {
    bytes += kOutputOverheadBytes + o.name.length;
    if (Array.isArray(o.data)) {
      for (const s of o.data) bytes += 4 + Buffer.byteLength(s, 'utf8');
    } else {
      bytes += (o.data as ArrayBuffer).byteLength;
    }
  }
  return bytes;
}

const kSeparator = Buffer.from([0]);

/**
 * The request's cache key, or null when it cannot be cached: an input in a client's shared-memory
 * region (its bytes are not in hand) or an output written into one (the response carries no bytes).
 */
export function cacheKey(model: string, version: number, request: InferRequest): string | null {
  if (request.outputs?.some((o) => o.sink)) return null;
  if (request.inputs.some((i) => i.data.kind === 'region')) return null;
  const hash = createHash('sha256');
  const text = (s: string) => {
    hash.update(s, 'utf8');
    hash.update(kSeparator);
  };
  text(model);
  text(String(version));
  const inputs = [...request.inputs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const input of inputs) {
    text(input.name);
    text(input.datatype);
    text(input.shape.join(','));
    const data = input.data;
    if (data.kind === 'raw') {
      text(String(data.bytes.byteLength));
      hash.update(data.bytes);
    } else if (data.kind === 'strings') {
      text(String(data.strings.length));
      const length = Buffer.alloc(4);
      for (const s of data.strings) {
        length.writeUInt32LE(Buffer.byteLength(s, 'utf8'));
        hash.update(length);
        hash.update(s, 'utf8');
      }
    }
  }
  text(request.outputs === null ? '*' : request.outputs.map((o) => o.name).sort().join('\u0000'));
  return hash.digest('base64');
}
