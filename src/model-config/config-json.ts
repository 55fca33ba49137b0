/**
 * A model config given as JSON (Triton's `parameters.config` of a load request, which Triton
 * reads with protobuf's JSON parser) → the plain object parsePbtxt returns: snake_case names,
 * numbers (protobuf JSON allows an integer as a decimal string, as Triton's own example sends
 * `{"max_batch_size":"16"}`), enums by name, maps as objects. An unknown field, an unknown enum
 * name or a value of the wrong kind is an error naming the field's path.
 */
import protobuf from 'protobufjs';
import { modelConfigType } from './model-config-schema.ts';
import type { RawConfig } from './model-config.ts';

const kFloatTypes = new Set(['double', 'float']);
const kIntTypes = new Set(['int32', 'uint32', 'sint32', 'fixed32', 'sfixed32', 'int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

/** Parses `text` as a JSON ModelConfig; throws an Error whose message says what is wrong. */
export function configFromJson(text: string): RawConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`the config is not JSON: ${(err as Error).message}`);
  }
  return message(json, modelConfigType(), '');
}

function message(value: unknown, type: protobuf.Type, path: string): RawConfig {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`${path || 'the config'}: expected an object for ${type.fullName.slice(1)}`);
  }
  const out: RawConfig = {};
  for (const [name, item] of Object.entries(value)) {
    const at = path === '' ? name : `${path}.${name}`;
    if (!Object.hasOwn(type.fields, name)) throw new Error(`${at}: unknown field of ${type.fullName.slice(1)}`);
    if (item === null) continue; // protobuf JSON: null means the field's default
    const field = type.fields[name];
    if (field.map) {
      if (typeof item !== 'object' || Array.isArray(item)) throw new Error(`${at}: expected an object (a map)`);
      out[name] = Object.fromEntries(Object.entries(item).map(([key, v]) => [key, scalarOrMessage(v, field, `${at}[${JSON.stringify(key)}]`)]));
    } else if (field.repeated) {
      if (!Array.isArray(item)) throw new Error(`${at}: expected an array`);
      out[name] = item.map((v, i) => scalarOrMessage(v, field, `${at}[${i}]`));
    } else {
      out[name] = scalarOrMessage(item, field, at);
    }
  }
  return out;
}

function scalarOrMessage(value: unknown, field: protobuf.Field, at: string): unknown {
  const rt = field.resolvedType;
  if (rt instanceof protobuf.Type) return message(value, rt, at);
  if (rt instanceof protobuf.Enum) {
    if (typeof value === 'string' && Object.hasOwn(rt.values, value)) return value;
    if (typeof value === 'number' && rt.valuesById[value] !== undefined) return rt.valuesById[value];
    throw new Error(`${at}: invalid value ${JSON.stringify(value)} for enum ${rt.fullName.slice(1)}`);
  }
  if (kIntTypes.has(field.type)) {
    const n = typeof value === 'string' && /^-?[0-9]+$/.test(value) ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw new Error(`${at}: invalid value ${JSON.stringify(value)} for ${field.type} field`);
    if (n < 0 && field.type.startsWith('u')) throw new Error(`${at}: invalid value ${n} for ${field.type} field`);
    return n;
  }
  if (kFloatTypes.has(field.type)) {
    const n = typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)) ? Number(value) : value;
    if (typeof n !== 'number') throw new Error(`${at}: invalid value ${JSON.stringify(value)} for ${field.type} field`);
    return n;
  }
  if (field.type === 'bool') {
    if (typeof value !== 'boolean') throw new Error(`${at}: invalid value ${JSON.stringify(value)} for bool field`);
    return value;
  }
  if (typeof value !== 'string') throw new Error(`${at}: invalid value ${JSON.stringify(value)} for ${field.type} field`);
  return value;
}
