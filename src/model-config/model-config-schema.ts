/**
 * Triton's ModelConfig schema (src/proto/model_config.proto), loaded once with
 * protobufjs, and the conversion of a plain config object into the JSON that
 * Triton's `GET /v2/models/{m}/config` answers.
 */
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const kProtoPath = fileURLToPath(new URL('../protocol/proto/model_config.proto', import.meta.url));
const kPackage = 'inference';

let cachedRoot: protobuf.Root | undefined;

/** The protobufjs root holding the `inference` package, loaded on first use. */
function modelConfigRoot(): protobuf.Root {
  if (cachedRoot === undefined) {
    // keepCase: field names stay snake_case, as in config.pbtxt and Triton's JSON.
    const root = new protobuf.Root().loadSync(kProtoPath, { keepCase: true });
    root.resolveAll();
    cachedRoot = root;
  }
  return cachedRoot;
}

/** A message type by name, with or without the package: `inference.ModelWarmup.Input` or `ModelWarmup.Input`. */
export function lookupType(name: string): protobuf.Type {
  const qualified = name.startsWith('.') || name.startsWith(`${kPackage}.`);
  return modelConfigRoot().lookupType(qualified ? name : `${kPackage}.${name}`);
}

/** The `inference.ModelConfig` message type. */
export function modelConfigType(): protobuf.Type {
  return lookupType('inference.ModelConfig');
}

const kJsonOptions: protobuf.IConversionOptions = {
  longs: String, // proto3 JSON writes int64/uint64 as decimal strings
  enums: String,
  defaults: true, // like Triton's always_print_primitive_fields
  arrays: true,
  objects: true,
  json: true, // NaN and Infinity as strings
};

/**
 * Converts a plain ModelConfig object (snake_case names, numbers, enum names,
 * maps as objects, the shape parsePbtxt returns) into Triton's config JSON:
 * every primitive field with its default, repeated fields as [], maps as {},
 * int64/uint64 as decimal strings except the fields Triton prints as numbers
 * (numberTritonInt64s, for a ModelConfig), enums as names, keys in Triton's order;
 * unset sub-messages and unset oneof members are left out. Throws a TypeError
 * naming the field when the object does not fit the schema (an unknown key, an
 * unknown enum name, a value of the wrong kind).
 */
export function toTritonJson(
  config: Record<string, unknown>,
  type: protobuf.Type = modelConfigType(),
): Record<string, unknown> {
  // fromObject coerces quietly (an unknown enum name becomes 0), so check first.
  assertFits(config, type, '');
  const message = type.fromObject(config);
  const problem = type.verify(message);
  if (problem !== null) throw new TypeError(`invalid ${type.fullName.slice(1)}: ${problem}`);
  const json = tidy(type.toObject(message, kJsonOptions), type);
  if (type.fullName === '.inference.ModelConfig') numberTritonInt64s(json);
  return json;
}

/**
 * Triton's config JSON (ModelConfigToJson, config_version 1) turns a fixed list of int64/uint64
 * fields back into JSON numbers; every other 64-bit field stays a decimal string, as proto3 JSON
 * writes it. The list, as Triton's: input/output `dims` and `reshape.shape`,
 * `version_policy.specific.versions`, dynamic_batching's `max_queue_delay_microseconds`,
 * `priority_levels`, `default_priority_level` and the `default_timeout_microseconds` of its queue
 * policies, sequence_batching's `max_sequence_idle_microseconds`, `oldest`/`direct`
 * `max_queue_delay_microseconds` and `state[].dims`, ensemble steps' `model_version`, and
 * `model_warmup[].inputs.*.dims`. (Triton looks for `initial_state` beside `state` rather than
 * inside it, so `state[].initial_state[].dims` stays strings there; so it does here.) Every
 * 64-bit value is a safe integer (parsePbtxt refuses others), so Number() is exact.
 */
function numberTritonInt64s(config: Plain): void {
  const num = (object: unknown, name: string): void => {
    if (isPlain(object) && typeof object[name] === 'string') object[name] = Number(object[name]);
  };
  const nums = (object: unknown, name: string): void => {
    if (isPlain(object) && Array.isArray(object[name])) object[name] = (object[name] as unknown[]).map(Number);
  };
  for (const io of [...asArray(config.input), ...asArray(config.output)]) {
    nums(io, 'dims');
    if (isPlain(io)) nums(io.reshape, 'shape');
  }
  if (isPlain(config.version_policy)) nums(config.version_policy.specific, 'versions');
  const db = config.dynamic_batching;
  if (isPlain(db)) {
    for (const name of ['max_queue_delay_microseconds', 'priority_levels', 'default_priority_level']) num(db, name);
    num(db.default_queue_policy, 'default_timeout_microseconds');
    if (isPlain(db.priority_queue_policy)) for (const policy of Object.values(db.priority_queue_policy)) num(policy, 'default_timeout_microseconds');
  }
  const sb = config.sequence_batching;
  if (isPlain(sb)) {
    num(sb, 'max_sequence_idle_microseconds');
    num(sb.oldest, 'max_queue_delay_microseconds');
    num(sb.direct, 'max_queue_delay_microseconds');
    for (const state of asArray(sb.state)) nums(state, 'dims');
  }
  if (isPlain(config.ensemble_scheduling)) for (const step of asArray(config.ensemble_scheduling.step)) num(step, 'model_version');
  for (const warmup of asArray(config.model_warmup)) {
    if (isPlain(warmup) && isPlain(warmup.inputs)) for (const input of Object.values(warmup.inputs)) nums(input, 'dims');
  }
}

function isPlain(value: unknown): value is Plain {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

type Plain = Record<string, unknown>;

const kNumberTypes = new Set(['double', 'float', 'int32', 'uint32', 'sint32', 'fixed32', 'sfixed32']);
const kLongTypes = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

function assertFits(object: unknown, type: protobuf.Type, path: string): void {
  if (object === null || typeof object !== 'object' || Array.isArray(object)) {
    throw new TypeError(`${path || type.name}: expected an object for ${type.fullName.slice(1)}`);
  }
  for (const [name, value] of Object.entries(object)) {
    const at = path === '' ? name : `${path}.${name}`;
    if (!Object.hasOwn(type.fields, name)) throw new TypeError(`${at}: unknown field of ${type.fullName.slice(1)}`);
    const field = type.fields[name];
    if (value === undefined || value === null) continue;
    if (field.map) {
      if (typeof value !== 'object' || Array.isArray(value)) throw new TypeError(`${at}: expected an object (map)`);
      for (const [key, item] of Object.entries(value)) assertValueFits(item, field, `${at}[${JSON.stringify(key)}]`);
    } else if (field.repeated) {
      if (!Array.isArray(value)) throw new TypeError(`${at}: expected an array`);
      value.forEach((item, i) => assertValueFits(item, field, `${at}[${i}]`));
    } else {
      assertValueFits(value, field, at);
    }
  }
}

function assertValueFits(value: unknown, field: protobuf.Field, at: string): void {
  const rt = field.resolvedType;
  if (rt instanceof protobuf.Type) return assertFits(value, rt, at);
  let ok: boolean;
  if (rt instanceof protobuf.Enum) {
    ok = typeof value === 'string' ? Object.hasOwn(rt.values, value) : typeof value === 'number' && rt.valuesById[value] !== undefined;
  } else if (kNumberTypes.has(field.type)) {
    ok = typeof value === 'number';
  } else if (kLongTypes.has(field.type)) {
    ok = (typeof value === 'number' && Number.isInteger(value)) || typeof value === 'bigint' || (typeof value === 'string' && /^-?[0-9]+$/.test(value));
  } else if (field.type === 'bool') {
    ok = typeof value === 'boolean';
  } else if (field.type === 'string') {
    ok = typeof value === 'string';
  } else {
    ok = value instanceof Uint8Array || typeof value === 'string';
  }
  if (!ok) throw new TypeError(`${at}: invalid value ${String(value)} for ${rt ? rt.fullName.slice(1) : field.type} field`);
}

// toObject groups keys by kind and writes null for each unset sub-message;
// Triton omits those, and prints fields in declaration order.
function tidy(object: Plain, type: protobuf.Type): Plain {
  const out: Plain = {};
  for (const field of type.fieldsArray) {
    const value = object[field.name];
    if (value === undefined || value === null) continue;
    const sub = field.resolvedType instanceof protobuf.Type ? field.resolvedType : undefined;
    if (sub === undefined) {
      out[field.name] = value;
    } else if (field.map) {
      const map: Plain = {};
      for (const [key, item] of Object.entries(value as Plain)) {
        Object.defineProperty(map, key, { value: tidy(item as Plain, sub), enumerable: true, writable: true, configurable: true });
      }
      out[field.name] = map;
    } else if (field.repeated) {
      out[field.name] = (value as Plain[]).map((item) => tidy(item, sub));
    } else {
      out[field.name] = tidy(value as Plain, sub);
    }
  }
  return out;
}
