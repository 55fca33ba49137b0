/**
 * Triton's gRPC LogSettings and TraceSetting messages ↔ the plain JSON bodies that
 * primary/log-settings.ts and primary/trace-manager.ts take and give, so the two RPCs run the
 * very same checks and state as `/v2/logging` and `/v2/trace/setting`. Pure functions over the
 * objects protobufjs gives with keepCase and oneofs (no grpc-js here). A handler is then:
 *
 *   LogSettings:  (r) => ({ settings: logSettingsToGrpc(ctx.logSettings.update(logSettingsFromGrpc(r.settings))) })
 *   TraceSetting: (r) => ({ settings: traceSettingToGrpc(ctx.tracing.update(traceSettingFromGrpc(r.settings), model)) })
 *
 * where `model` is r.model_name checked with registry.ready(), or undefined when it is empty.
 * An empty settings map changes nothing and answers the settings in force, as in Triton.
 */
import { quote, serverError } from '../../errors.ts';
import type { LogSettingsJson } from '../../observability/index.ts';
import type { TraceSettingJson } from '../../cli/index.ts';

/** LogSettingsRequest.SettingValue / LogSettingsResponse.SettingValue. */
interface LogSettingValue {
  parameter_choice?: 'bool_param' | 'uint32_param' | 'string_param';
  bool_param?: boolean;
  uint32_param?: number;
  string_param?: string;
}

/** TraceSettingRequest.SettingValue / TraceSettingResponse.SettingValue. */
interface TraceSettingValue {
  value?: string[];
}

const kLogMembers = ['bool_param', 'uint32_param', 'string_param'] as const;

/** A LogSettings request's map as a logging extension body: each value the member that is set. */
export function logSettingsFromGrpc(settings: Record<string, LogSettingValue> | undefined): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(settings ?? {})) {
    const choice = v.parameter_choice ?? kLogMembers.find((m) => v[m] !== undefined);
    if (choice === undefined) throw serverError('BAD_REQUEST', `log setting '${quote(key)}' has no value`);
    body[key] = v[choice];
  }
  return body;
}

/** The logging extension's settings as a LogSettingsResponse map. */
export function logSettingsToGrpc(json: LogSettingsJson): Record<string, LogSettingValue> {
  const out: Record<string, LogSettingValue> = {};
  for (const [key, value] of Object.entries(json)) {
    out[key] = typeof value === 'boolean' ? { bool_param: value }
      : typeof value === 'number' ? { uint32_param: value }
        : { string_param: value };
  }
  return out;
}

/**
 * A TraceSetting request's map as a trace extension body: trace_level keeps its list, every
 * other setting takes its one value; an empty list clears the setting (null), as in Triton.
 */
export function traceSettingFromGrpc(settings: Record<string, TraceSettingValue> | undefined): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(settings ?? {})) {
    const values = v.value ?? [];
    if (values.length === 0) body[key] = null;
    else if (key === 'trace_level') body[key] = [...values];
    else if (values.length === 1) body[key] = values[0];
    else throw serverError('BAD_REQUEST', `trace setting '${quote(key)}' takes one value, got ${values.length}`);
  }
  return body;
}

/** The trace extension's settings as a TraceSettingResponse map (every value a list of strings). */
export function traceSettingToGrpc(json: TraceSettingJson): Record<string, TraceSettingValue> {
  const out: Record<string, TraceSettingValue> = {};
  for (const [key, value] of Object.entries(json)) out[key] = { value: Array.isArray(value) ? [...value] : [value] };
  return out;
}
