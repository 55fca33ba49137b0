/**
 * Protocol buffers wire format, by hand: a reader over one message's bytes and a writer into a
 * buffer of the exact size, for the few messages on the inference path (grpc-infer-wire.ts).
 * The rest of the schema goes through @grpc/proto-loader.
 *
 * Why by hand: proto-loader decodes into protobufjs message objects and then converts them
 * into plain objects (toObject), and encodes by converting plain objects into message objects
 * (fromObject) first; for a small ModelInfer call those conversions cost more than the wire
 * format itself. Reading and writing the plain objects directly skips both.
 *
 * 64-bit integers are decimal strings when read (as proto-loader gives them with longs: String),
 * and may be written from numbers, decimal strings or bigints.
 */

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LDELIM = 2;
export const WIRE_START_GROUP = 3;
export const WIRE_END_GROUP = 4;
export const WIRE_FIXED32 = 5;

const k2Pow32 = 4294967296;
/** Strings up to this many bytes are read and written by a loop in JavaScript. */
const kShortString = 32;

/** Reads one message (or a length-delimited part of one) from `buf[pos, end)`. */
export class ProtoReader {
  pos: number;

  constructor(readonly buf: Buffer, pos = 0, readonly end = buf.length) {
    this.pos = pos;
  }

  /** The next field's key (field number << 3 | wire type). */
  tag(): number {
    return this.uint32();
  }

  /** A varint's low 32 bits, unsigned; the rest of a longer varint is read and dropped. */
  uint32(): number {
    const buf = this.buf;
    let pos = this.pos;
    let b = buf[pos++];
    let value = b & 0x7f;
    if (b >= 0x80) {
      b = buf[pos++]; value |= (b & 0x7f) << 7;
      if (b >= 0x80) {
        b = buf[pos++]; value |= (b & 0x7f) << 14;
        if (b >= 0x80) {
          b = buf[pos++]; value |= (b & 0x7f) << 21;
          if (b >= 0x80) {
            b = buf[pos++]; value |= (b & 0x0f) << 28;
            // Bytes 6 to 10 of a 64-bit varint (a negative int32 takes all ten).
            for (let i = 0; b >= 0x80 && i < 5; i++) b = buf[pos++];
            if (b >= 0x80) throw new RangeError('invalid varint');
          }
        }
      }
    }
    if (pos > this.end) throw new RangeError('message truncated');
    this.pos = pos;
    return value >>> 0;
  }

  int32(): number {
    return this.uint32() | 0;
  }

  bool(): boolean {
    return this.uint32() !== 0;
  }

  /** A varint as [low 32 bits, high 32 bits], both unsigned. */
  private varint64(): [number, number] {
    const buf = this.buf;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    let b = 0x80;
    let shift = 0;
    for (; shift < 28 && b >= 0x80; shift += 7) {
      b = buf[pos++];
      lo |= (b & 0x7f) << shift;
    }
    if (b >= 0x80) {
      // The fifth byte straddles the halves: 4 bits for lo, 3 for hi.
      b = buf[pos++];
      lo |= (b & 0x0f) << 28;
      hi = (b & 0x7f) >> 4;
      for (shift = 3; shift < 32 && b >= 0x80; shift += 7) {
        b = buf[pos++];
        hi |= (b & 0x7f) << shift;
      }
      if (b >= 0x80) throw new RangeError('invalid varint');
    }
    if (pos > this.end) throw new RangeError('message truncated');
    this.pos = pos;
    return [lo >>> 0, hi >>> 0];
  }

  /** An int64 as a decimal string. */
  int64(): string {
    const [lo, hi] = this.varint64();
    if (hi < 0x200000) return String(hi * k2Pow32 + lo);
    return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString();
  }

  /** A uint64 as a decimal string. */
  uint64(): string {
    const [lo, hi] = this.varint64();
    if (hi < 0x200000) return String(hi * k2Pow32 + lo);
    return ((BigInt(hi) << 32n) | BigInt(lo)).toString();
  }

  float(): number {
    return this.fixed(4).readFloatLE(this.pos - 4);
  }

  double(): number {
    return this.fixed(8).readDoubleLE(this.pos - 8);
  }

  /** Advances over `n` bytes and returns the buffer (for a fixed-width read ending at pos). */
  private fixed(n: number): Buffer {
    if (this.pos + n > this.end) throw new RangeError('message truncated');
    this.pos += n;
    return this.buf;
  }

  /** A length prefix, checked against the end of the message. */
  length(): number {
    const n = this.uint32();
    if (n > this.end - this.pos) throw new RangeError('message truncated');
    return n;
  }

  /** A bytes field as a view into the message (no copy). */
  bytes(): Buffer {
    const n = this.length();
    const start = this.pos;
    this.pos += n;
    return this.buf.subarray(start, start + n);
  }

  string(): string {
    const n = this.length();
    const start = this.pos;
    this.pos += n;
    const buf = this.buf;
    if (n <= kShortString) {
      // Names and datatypes are short and ASCII: building the string here is about twice as
      // fast as Buffer#toString, which pays for its encoding switch and a native call.
      let s = '';
      for (let i = start; i < start + n; i++) {
        const c = buf[i];
        if (c >= 0x80) return buf.toString('utf8', start, start + n);
        s += String.fromCharCode(c);
      }
      return s;
    }
    return buf.toString('utf8', start, start + n);
  }

  /** A reader over the next length-delimited field's bytes; this one moves past them. */
  sub(): ProtoReader {
    const n = this.length();
    const start = this.pos;
    this.pos += n;
    return new ProtoReader(this.buf, start, start + n);
  }

  /** Skips a field of `wireType` whose key was just read (an unknown field). */
  skip(wireType: number, field = 0): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.varint64();
        return;
      case WIRE_FIXED64:
        this.fixed(8);
        return;
      case WIRE_LDELIM: {
        const n = this.length(); // before reading pos: length() moves it past the prefix
        this.pos += n;
        return;
      }
      case WIRE_FIXED32:
        this.fixed(4);
        return;
      case WIRE_START_GROUP:
        for (;;) {
          if (this.pos >= this.end) throw new RangeError('group not ended');
          const key = this.tag();
          if ((key & 7) === WIRE_END_GROUP) {
            if (key >>> 3 !== field) throw new RangeError('group ended by another field');
            return;
          }
          this.skip(key & 7, key >>> 3);
        }
      default:
        throw new RangeError(`invalid wire type ${wireType}`);
    }
  }

  /**
   * The elements of a repeated scalar field whose key (with `wireType`) was just read: a packed
   * run when length-delimited, else one element. Parsers must accept both encodings.
   */
  repeated<T>(wireType: number, elementWire: number, read: (r: ProtoReader) => T, into: T[]): void {
    if (wireType === WIRE_LDELIM) {
      const n = this.length();
      const end = this.pos + n;
      const packed = new ProtoReader(this.buf, this.pos, end);
      while (packed.pos < end) into.push(read(packed));
      this.pos = end;
    } else if (wireType === elementWire) {
      into.push(read(this));
    } else {
      this.skip(wireType);
    }
  }
}

/** Bytes a varint of a uint32 (or of a non-negative int up to 2^53) takes. */
export function varintSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  if (n < 0x800000000) return 5;
  // Negative numbers are written as 64-bit two's complement (10 bytes).
  if (n < 0) return 10;
  let size = 5;
  for (let rest = Math.floor(n / 0x800000000); rest > 0; rest = Math.floor(rest / 128)) size++;
  return size;
}

/** A 64-bit integer (number, decimal string or bigint) as [low, high] unsigned 32-bit halves. */
export function int64Halves(value: number | string | bigint): [number, number] {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) {
    return [value >>> 0, Math.floor(value / k2Pow32) >>> 0];
  }
  let big: bigint;
  if (typeof value === 'bigint') big = value;
  else if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`${value} is not an integer`);
    big = BigInt(Math.trunc(value));
  } else big = BigInt(value);
  const u = BigInt.asUintN(64, big);
  return [Number(u & 0xffffffffn), Number(u >> 32n)];
}

/** Bytes the varint of a 64-bit value given as halves takes. */
export function varint64Size(lo: number, hi: number): number {
  if (hi === 0) return varintSize(lo);
  return Math.ceil((64 - Math.clz32(hi)) / 7);
}

/** Writes into a buffer sized beforehand; every write advances `pos`. */
export class ProtoWriter {
  pos = 0;

  constructor(readonly buf: Buffer) {}

  /** A non-negative integer below 2^53 as a varint. */
  varint(n: number): void {
    const buf = this.buf;
    let pos = this.pos;
    while (n >= 0x80) {
      buf[pos++] = (n & 0x7f) | 0x80;
      n = n >= k2Pow32 ? Math.floor(n / 128) : n >>> 7;
    }
    buf[pos++] = n;
    this.pos = pos;
  }

  /** A 64-bit value given as unsigned halves, as a varint. */
  varint64(lo: number, hi: number): void {
    const buf = this.buf;
    let pos = this.pos;
    while (hi !== 0 || lo >= 0x80) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    buf[pos++] = lo;
    this.pos = pos;
  }

  /** A field key. */
  key(field: number, wireType: number): void {
    this.buf[this.pos++] = (field << 3) | wireType; // every field number here is below 16
  }

  /** A string of `byteLength` UTF-8 bytes (the length prefix is written first). */
  string(s: string, byteLength: number): void {
    this.varint(byteLength);
    if (byteLength === s.length && byteLength <= kShortString) {
      // ASCII (no other string has as many bytes as characters), and short: a loop beats the
      // native call of Buffer#write several times over.
      const buf = this.buf;
      const pos = this.pos;
      for (let i = 0; i < byteLength; i++) buf[pos + i] = s.charCodeAt(i);
      this.pos += byteLength;
    } else {
      this.pos += this.buf.write(s, this.pos, byteLength, 'utf8');
    }
  }

  bytes(b: Uint8Array): void {
    this.varint(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  float(v: number): void {
    this.pos = this.buf.writeFloatLE(v, this.pos);
  }

  double(v: number): void {
    this.pos = this.buf.writeDoubleLE(v, this.pos);
  }
}

/** UTF-8 byte length of a string; ASCII-only short strings skip the native call. */
export function utf8Length(s: string): number {
  const n = s.length;
  if (n < 32) {
    let i = 0;
    while (i < n && s.charCodeAt(i) < 0x80) i++;
    if (i === n) return n;
  }
  return Buffer.byteLength(s, 'utf8');
}
