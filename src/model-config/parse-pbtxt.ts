/**
 * A parser for protobuf text format (Triton's config.pbtxt), driven by protobufjs
 * reflection: a tokenizer, then a recursive-descent parser that reads each value
 * with the type of its field. The result is a plain object holding only the
 * fields present in the text (see parsePbtxt).
 */
import protobuf from 'protobufjs';

/** A syntax or type error in pbtxt text, with its 1-based position. */
export class PbtxtError extends Error {
  /**
   * @param detail the message without its `source:line:column: ` prefix
   * @param field the path of the field involved, such as `input[1].dims`, when there is one
   */
  constructor(
    readonly source: string,
    readonly line: number,
    readonly column: number,
    readonly detail: string,
    readonly field?: string,
  ) {
    super(`${source}:${line}:${column}: ${detail}`);
    this.name = 'PbtxtError';
  }
}

// `text` is the source text; a string token also has its decoded bytes.
interface Token { kind: 'ident' | 'number' | 'string' | 'punct' | 'eof'; text: string; line: number; column: number; bytes?: Uint8Array }

type Fail = (at: { line: number; column: number }, detail: string, field?: string) => never;

const kPunct = '{}<>[]:,;-';
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isIdentStart = (c: string | undefined): boolean =>
  c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_');
const isIdentPart = (c: string | undefined): boolean => isIdentStart(c) || isDigit(c);
const isHexDigit = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c);

function tokenize(text: string, fail: Fail): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '\n') [line, lineStart] = [line + 1, i + 1];
    if (' \t\r\n\f\v'.includes(c)) {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++; // a comment runs to the end of its line
      continue;
    }
    const at = { line, column: i - lineStart + 1 };
    let j = i + 1;
    if (isIdentStart(c)) {
      while (isIdentPart(text[j])) j++;
      tokens.push({ kind: 'ident', text: text.slice(i, j), ...at });
    } else if (isDigit(c) || (c === '.' && isDigit(text[i + 1]))) {
      // Take the whole run (1.5e-3, 0x1F, 2.5f); the parser decides what it means.
      const hex = c === '0' && (text[j] === 'x' || text[j] === 'X');
      for (;;) {
        const d = text[j];
        if (isIdentPart(d) || d === '.') j++;
        else if ((d === '+' || d === '-') && !hex && (text[j - 1] === 'e' || text[j - 1] === 'E')) j++;
        else break;
      }
      tokens.push({ kind: 'number', text: text.slice(i, j), ...at });
    } else if (c === '"' || c === "'") {
      const bytes: number[] = [];
      for (;;) {
        const d = text[j];
        if (d === undefined || d === '\n') fail(at, 'unterminated string');
        if (d === c) break;
        if (d !== '\\') {
          const cp = text.codePointAt(j)!;
          bytes.push(...Buffer.from(String.fromCodePoint(cp), 'utf8'));
          j += cp > 0xffff ? 2 : 1;
          continue;
        }
        j = readEscape(text, j, bytes, { line, column: j - lineStart + 1 }, fail);
      }
      j++;
      tokens.push({ kind: 'string', text: text.slice(i, j), bytes: Uint8Array.from(bytes), ...at });
    } else if (kPunct.includes(c)) {
      tokens.push({ kind: 'punct', text: c, ...at });
    } else {
      fail(at, `unexpected character '${c}'`);
    }
    i = j;
  }
  tokens.push({ kind: 'eof', text: '', line, column: i - lineStart + 1 });
  return tokens;
}

const kSimpleEscapes: Record<string, number> = {
  n: 10, t: 9, r: 13, a: 7, b: 8, f: 12, v: 11, '\\': 92, "'": 39, '"': 34, '?': 63,
};

/** Reads the escape at text[j] === '\\' into bytes; returns the index after it. */
function readEscape(text: string, j: number, bytes: number[], at: { line: number; column: number }, fail: Fail): number {
  const e = text[j + 1] ?? '';
  let k = j + 2;
  const digits = (ok: (c: string | undefined) => boolean, max: number): string => {
    const start = k;
    while (k - start < max && ok(text[k])) k++;
    return text.slice(start, k);
  };
  if (Object.hasOwn(kSimpleEscapes, e)) {
    bytes.push(kSimpleEscapes[e]);
  } else if (e >= '0' && e <= '7') {
    k = j + 1;
    const value = parseInt(digits((d) => d !== undefined && d >= '0' && d <= '7', 3), 8);
    if (value > 255) fail(at, `octal escape '\\${text.slice(j + 1, k)}' is above \\377`);
    bytes.push(value);
  } else if (e === 'x' || e === 'X') {
    const hex = digits(isHexDigit, 2);
    if (hex === '') fail(at, "escape '\\x' needs hex digits");
    bytes.push(parseInt(hex, 16));
  } else if (e === 'u' || e === 'U') {
    const want = e === 'u' ? 4 : 8;
    const hex = digits(isHexDigit, want);
    const cp = parseInt(hex, 16);
    if (hex.length !== want || cp > 0x10ffff) fail(at, `escape '\\${e}' needs ${want} hex digits of a code point`);
    bytes.push(...Buffer.from(String.fromCodePoint(cp), 'utf8'));
  } else {
    fail(at, `invalid escape '\\${e}' in string`);
  }
  return k;
}

/** What the parser needs to know of a field; a protobufjs Field, or a map entry's key or value. */
interface Slot {
  name: string;
  type: string; // 'int32', 'string', ... or the name of a message or enum
  resolvedType: protobuf.ReflectionObject | null;
  repeated: boolean;
  map: boolean;
  keyType?: string; // of a map
  partOf?: protobuf.OneOf | null;
}

/** The fields of a message type, or of a map field's entry `{ key, value }`. */
interface Scope {
  label: string;
  slot(name: string): Slot | undefined;
}

const kInt32 = [-(2n ** 31n), 2n ** 31n - 1n] as const;
const kUint32 = [0n, 2n ** 32n - 1n] as const;
// 64-bit integers come out as JS numbers, so they must stay exact (|v| <= 2^53-1).
const kInt64 = [-(2n ** 53n - 1n), 2n ** 53n - 1n] as const;
const kUint64 = [0n, 2n ** 53n - 1n] as const;
const kIntRange: Record<string, readonly [bigint, bigint]> = {
  int32: kInt32, sint32: kInt32, sfixed32: kInt32, uint32: kUint32, fixed32: kUint32,
  int64: kInt64, sint64: kInt64, sfixed64: kInt64, uint64: kUint64, fixed64: kUint64,
};

function integerOf(text: string): bigint | undefined {
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) return BigInt(text);
  if (/^0[0-7]+$/.test(text)) return BigInt(`0o${text.slice(1)}`);
  if (/^(0|[1-9][0-9]*)$/.test(text)) return BigInt(text);
  return undefined;
}

function floatOf(text: string): number | undefined {
  const int = integerOf(text);
  if (int !== undefined) return Number(int);
  const body = text.endsWith('f') || text.endsWith('F') ? text.slice(0, -1) : text;
  return /^([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(body) ? Number(body) : undefined;
}

const kUtf8 = new TextDecoder('utf-8', { fatal: true });
const kBools: Record<string, boolean> = { true: true, True: true, t: true, '1': true, false: false, False: false, f: false, '0': false };
const kSpecialFloats: Record<string, number> = { inf: Infinity, infinity: Infinity, nan: NaN };

const typeName = (t: protobuf.ReflectionObject): string => t.fullName.replace(/^\./, '');
const join = (path: string, name: string): string => (path === '' ? name : `${path}.${name}`);
const isPunct = (tok: Token, ...texts: string[]): boolean => tok.kind === 'punct' && texts.includes(tok.text);

function describe(tok: Token): string {
  if (tok.kind === 'eof') return 'end of input';
  return tok.kind === 'string' ? `string ${tok.text}` : `'${tok.text}'`;
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function typeScope(type: protobuf.Type): Scope {
  return {
    label: typeName(type),
    slot: (name) => (Object.hasOwn(type.fields, name) ? type.fields[name].resolve() : undefined),
  };
}

function entryScope(map: Slot): Scope {
  const key: Slot = { name: 'key', type: map.keyType ?? 'string', resolvedType: null, repeated: false, map: false };
  const value: Slot = { name: 'value', type: map.type, resolvedType: map.resolvedType, repeated: false, map: false };
  return { label: `the map entry of field '${map.name}'`, slot: (name) => ({ key, value })[name] };
}

class Parser {
  private pos = 0;

  constructor(private readonly tokens: Token[], private readonly fail: Fail) {}

  private peek(): Token {
    return this.tokens[this.pos];
  }

  private next(): Token {
    const tok = this.tokens[this.pos];
    if (tok.kind !== 'eof') this.pos++;
    return tok;
  }

  private expected(tok: Token, what: string, field?: string): never {
    if (tok.kind === 'eof') this.fail(tok, `unexpected end of input, expected ${what}`, field);
    this.fail(tok, `expected ${what}, got ${describe(tok)}`, field);
  }

  /** Reads fields up to the closer of `open` (or to the end of input at the top level). */
  parseMessage(scope: Scope, path: string, open?: { tok: Token; field: string }): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const seen = new Map<string, Token>(); // singular fields and oneofs already given
    const close = open === undefined ? undefined : open.tok.text === '<' ? '>' : '}';
    for (;;) {
      const tok = this.next();
      if (tok.kind === 'eof') {
        if (open === undefined) return out;
        this.fail(tok, `unexpected end of input: '${open.tok.text}' of field '${open.field}' opened at line ${open.tok.line} is never closed`, path);
      }
      if (isPunct(tok, '}', '>')) {
        if (tok.text === close) return out;
        if (open === undefined) this.fail(tok, `unbalanced braces: '${tok.text}' has no matching opening`);
        this.fail(tok, `expected '${close}' to close field '${open.field}' opened at line ${open.tok.line}, got '${tok.text}'`, path);
      }
      if (tok.kind !== 'ident') this.expected(tok, 'a field name', path);
      const slot = scope.slot(tok.text);
      if (slot === undefined) this.fail(tok, `unknown field '${tok.text}' in ${scope.label}`, join(path, tok.text));
      this.parseField(slot, tok, out, seen, path);
      if (isPunct(this.peek(), ',', ';')) this.next();
    }
  }

  private parseField(slot: Slot, nameTok: Token, out: Record<string, unknown>, seen: Map<string, Token>, path: string): void {
    const name = slot.name;
    const fieldPath = join(path, name);
    if (!slot.repeated && !slot.map) {
      const first = seen.get(name);
      if (first) this.fail(nameTok, `field '${name}' is given twice (first at line ${first.line})`, fieldPath);
      const oneof = slot.partOf;
      const other = oneof && seen.get(`oneof ${oneof.name}`);
      if (oneof && other) {
        this.fail(nameTok, `field '${name}' and field '${other.text}' (line ${other.line}) are both in oneof '${oneof.name}'`, fieldPath);
      }
      seen.set(name, nameTok);
      if (oneof) seen.set(`oneof ${oneof.name}`, nameTok);
    }
    const composite = slot.map || slot.resolvedType instanceof protobuf.Type;
    const colon = isPunct(this.peek(), ':');
    if (colon) this.next();
    else if (!(composite && isPunct(this.peek(), '{', '<', '['))) {
      this.expected(this.peek(), `':' or '{' after field '${name}'`, fieldPath);
    }
    if (slot.repeated && out[name] === undefined) out[name] = [];
    if (slot.map && out[name] === undefined) out[name] = {};
    if (!isPunct(this.peek(), '[')) {
      this.parseElement(slot, out, fieldPath);
      return;
    }
    const bracket = this.next();
    if (!slot.repeated && !slot.map) this.fail(bracket, `field '${name}' is not repeated, so it takes no list`, fieldPath);
    if (isPunct(this.peek(), ']')) {
      this.next();
      return;
    }
    for (;;) {
      this.parseElement(slot, out, fieldPath);
      const tok = this.next();
      if (isPunct(tok, ']')) return;
      if (!isPunct(tok, ',')) this.expected(tok, `',' or ']' in the list of field '${name}'`, fieldPath);
    }
  }

  /** Reads one value of the slot (one element, for a repeated field) and stores it in out. */
  private parseElement(slot: Slot, out: Record<string, unknown>, fieldPath: string): void {
    const name = slot.name;
    const list = out[name] as unknown[];
    const path = slot.repeated ? `${fieldPath}[${list.length}]` : fieldPath;
    const open = this.peek();
    let value: unknown;
    if (slot.map || slot.resolvedType instanceof protobuf.Type) {
      if (!isPunct(open, '{', '<')) this.expected(open, `'{' to open field '${name}'`, path);
      this.next();
      const scope = slot.map ? entryScope(slot) : typeScope(slot.resolvedType as protobuf.Type);
      value = this.parseMessage(scope, path, { tok: open, field: name });
    } else {
      value = this.parseScalar(slot, path);
    }
    if (slot.map) {
      // An entry is a message { key value }; either may be missing and then takes its default.
      const scope = entryScope(slot);
      const entry = value as { key?: unknown; value?: unknown };
      const key = String(entry.key ?? defaultOf(scope.slot('key')!));
      const map = out[name] as Record<string, unknown>;
      if (Object.hasOwn(map, key)) this.fail(open, `duplicate key '${key}' in map field '${name}'`, fieldPath);
      setOwn(map, key, entry.value ?? defaultOf(scope.slot('value')!));
    } else if (slot.repeated) {
      list.push(value);
    } else {
      out[name] = value;
    }
  }

  private parseScalar(slot: Slot, path: string): unknown {
    const rt = slot.resolvedType;
    const kind = rt instanceof protobuf.Enum ? `enum ${typeName(rt)}` : slot.type;
    const field = `field '${slot.name}'`;
    if (slot.type === 'string' || slot.type === 'bytes') {
      const first = this.peek();
      if (first.kind !== 'string') this.expected(first, `a quoted string for ${slot.type} ${field}`, path);
      const parts: Uint8Array[] = [];
      while (this.peek().kind === 'string') parts.push(this.next().bytes!); // "a" "b" is "ab"
      const bytes = Buffer.concat(parts);
      if (slot.type === 'bytes') return new Uint8Array(bytes);
      try {
        return kUtf8.decode(bytes);
      } catch {
        this.fail(first, `string for ${field} is not valid UTF-8`, path);
      }
    }
    const start = this.next();
    const negative = isPunct(start, '-');
    const tok = negative ? this.next() : start;
    const shown = `${negative ? '-' : ''}${tok.text}`;
    const invalid = (): never => this.fail(start, `invalid value '${shown}' for ${kind} of ${field}`, path);
    if (tok.kind !== 'ident' && tok.kind !== 'number') this.expected(tok, `a value for ${kind} ${field}`, path);
    if (rt instanceof protobuf.Enum) {
      const num = tok.kind === 'number' ? integerOf(tok.text) : undefined;
      const label = num !== undefined ? rt.valuesById[Number(negative ? -num : num)] : negative ? undefined : tok.text;
      if (label === undefined || !Object.hasOwn(rt.values, label)) invalid();
      return label;
    }
    if (slot.type === 'bool') {
      if (negative || !Object.hasOwn(kBools, tok.text)) invalid();
      return kBools[tok.text];
    }
    if (slot.type === 'float' || slot.type === 'double') {
      const lower = tok.text.toLowerCase();
      let value = tok.kind === 'number' ? floatOf(tok.text) : undefined;
      if (tok.kind === 'ident' && Object.hasOwn(kSpecialFloats, lower)) value = kSpecialFloats[lower];
      if (value === undefined) return invalid();
      return negative ? -value : value;
    }
    const range = kIntRange[slot.type];
    if (range === undefined) this.fail(start, `unsupported type '${slot.type}' of ${field}`, path);
    const magnitude = tok.kind === 'number' ? integerOf(tok.text) : undefined;
    if (magnitude === undefined) invalid();
    const value = negative ? -magnitude! : magnitude!;
    if (value < range[0] || value > range[1]) {
      const note = slot.type.endsWith('64') ? ' (64-bit integers must fit in a JS number, |v| <= 2^53-1)' : '';
      this.fail(start, `value ${value} out of range for ${slot.type} ${field}${note}`, path);
    }
    return Number(value);
  }
}

/** The value a map entry gets for a missing key or value, as protobuf does. */
function defaultOf(slot: Slot): unknown {
  const rt = slot.resolvedType;
  if (rt instanceof protobuf.Type) return {};
  if (rt instanceof protobuf.Enum) return rt.valuesById[0] ?? Object.keys(rt.values)[0];
  if (slot.type === 'string') return '';
  if (slot.type === 'bytes') return new Uint8Array(0);
  return slot.type === 'bool' ? false : 0;
}

/**
 * Parses protobuf text format into a plain object of the message `type`:
 * proto field names (snake_case), numbers (64-bit ones too, which must stay
 * below 2^53), enums by name, repeated fields as arrays, maps as plain objects
 * (keys as strings), sub-messages as objects. Only fields present in the text
 * are set; nothing is defaulted. Throws a PbtxtError naming `source`, the line
 * and the column.
 */
export function parsePbtxt(text: string, type: protobuf.Type, source = '<input>'): Record<string, unknown> {
  const fail: Fail = (at, detail, field) => {
    throw new PbtxtError(source, at.line, at.column, detail, field);
  };
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  return new Parser(tokenize(body, fail), fail).parseMessage(typeScope(type), '');
}
