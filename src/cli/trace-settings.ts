/**
 * Trace settings in Triton's terms: a level (OFF, or TIMESTAMPS and/or TENSORS), a sampling rate
 * (every rate-th request), a count of traces still to take (-1: no limit), a log frequency (write
 * every N traces to `<file>.<k>`; 0: one growing file) and the file. Pure parsing and checking:
 * `--trace-config` on the command line, and the trace extension's JSON (where every value is a
 * string, or null to clear a model's own value) over HTTP and gRPC.
 */
import { quote, serverError } from '../errors.ts';

type TraceLevel = 'TIMESTAMPS' | 'TENSORS';

export interface TraceSetting {
  /** Empty: OFF. */
  readonly level: readonly TraceLevel[];
  readonly rate: number;
  readonly count: number;
  readonly logFrequency: number;
  /** '' until --trace-config triton,file=PATH is given; without a file nothing is traced. */
  readonly file: string;
}

/** What one model may set for itself; what it leaves out comes from the global setting. */
export type TraceOverride = Partial<Pick<TraceSetting, 'level' | 'rate' | 'count' | 'logFrequency'>>;

/** A checked update: a value to set, null to clear (a model then follows the global value again). */
export type TraceUpdate = { [K in keyof TraceOverride]?: TraceOverride[K] | null };

/** The trace extension's JSON (GET and POST answers), with Triton's field names. */
export interface TraceSettingJson {
  trace_level: string[];
  trace_rate: string;
  trace_count: string;
  log_frequency: string;
  trace_file: string;
  trace_mode: 'triton';
}

/** Triton's defaults: OFF, every 1000th request, no count limit, one file written as it grows. */
export const DEFAULT_TRACE_SETTING: TraceSetting = Object.freeze({ level: Object.freeze([]), rate: 1000, count: -1, logFrequency: 0, file: '' });

const UINT32_MAX = 2 ** 32 - 1;
const INT32_MAX = 2 ** 31 - 1;

export function traceSettingJson(s: TraceSetting): TraceSettingJson {
  return {
    trace_level: s.level.length === 0 ? ['OFF'] : [...s.level],
    trace_rate: String(s.rate),
    trace_count: String(s.count),
    log_frequency: String(s.logFrequency),
    trace_file: s.file,
    trace_mode: 'triton',
  };
}

/** Levels from names: 'OFF' alone, or any of TIMESTAMPS and TENSORS. */
function levels(names: readonly string[], where: string, fail: (m: string) => Error): TraceLevel[] {
  const out = new Set<TraceLevel>();
  for (const name of names) {
    if (name === 'OFF') {
      if (names.length !== 1) throw fail(`${where}: expect only one trace level 'OFF' is specified`);
    } else if (name === 'TIMESTAMPS' || name === 'TENSORS') {
      out.add(name);
    } else {
      throw fail(`${where}: unknown trace level '${quote(name)}' (expected OFF, TIMESTAMPS or TENSORS)`);
    }
  }
  return ['TIMESTAMPS', 'TENSORS'].filter((l) => out.has(l as TraceLevel)) as TraceLevel[];
}

/** A decimal integer within [min, max], or an error naming the setting. */
function integerIn(text: string, min: number, max: number, what: string, fail: (m: string) => Error): number {
  const n = Number(text);
  if (!/^-?[0-9]+$/.test(text.trim())) throw fail(`Unable to parse '${what}', got: ${quote(text)}`);
  if (n < min || n > max) throw fail(`Unable to parse '${what}', value is out of range [ ${min}, ${max} ], got: ${quote(text)}`);
  return n;
}

/**
 * `--trace-config` entries, Triton's current form: global `level=`, `rate=`, `count=`, `mode=`,
 * and `triton,file=`, `triton,log-frequency=`. `level` may be given more than once.
 */
export function parseTraceConfig(entries: readonly string[]): TraceSetting {
  const fail = (m: string) => new TypeError(m);
  let level: string[] = [];
  let { rate, count, logFrequency, file } = DEFAULT_TRACE_SETTING;
  for (const entry of entries) {
    const m = /^(?:([a-z]+),)?([a-z_-]+)=(.*)$/.exec(entry);
    if (!m) throw fail(`--trace-config must be <setting>=<value> or <mode>,<setting>=<value> (got '${quote(entry)}')`);
    const [, mode, key, value] = m;
    if (mode !== undefined && mode !== 'triton') throw fail(`--trace-config: trace mode '${quote(mode)}' is not supported; only 'triton' is`);
    if (mode === undefined && key === 'level') level.push(value.toUpperCase());
    else if (mode === undefined && key === 'rate') rate = integerIn(value, 0, UINT32_MAX, '--trace-config rate', fail);
    else if (mode === undefined && key === 'count') count = integerIn(value, -1, INT32_MAX, '--trace-config count', fail);
    else if (mode === undefined && key === 'mode') {
      if (value !== 'triton') throw fail(`--trace-config: trace mode '${quote(value)}' is not supported; only 'triton' is`);
    } else if (mode === 'triton' && key === 'file') {
      if (value === '') throw fail('--trace-config triton,file must not be empty');
      file = value;
    } else if (mode === 'triton' && key === 'log-frequency') logFrequency = integerIn(value, 0, UINT32_MAX, '--trace-config triton,log-frequency', fail);
    else throw fail(`--trace-config has no setting '${quote(`${mode ? `${mode},` : ''}${key}`)}' (known: level, rate, count, mode, triton,file, triton,log-frequency)`);
  }
  // The last OFF given wins over levels before it, so `level=OFF` after others turns tracing off.
  const lastOff = level.lastIndexOf('OFF');
  if (lastOff >= 0) level = level.slice(lastOff + 1);
  return Object.freeze({ level: Object.freeze(levels(level, '--trace-config level', fail)), rate, count, logFrequency, file });
}

/**
 * Checks a trace extension update (a JSON object; values are strings, trace_level an array of
 * strings, null clears). Throws a ServerError (400, or 501 for trace_file, as Triton) naming
 * the field; nothing is applied unless all of it is valid.
 */
export function checkTraceUpdate(body: unknown): TraceUpdate {
  const fail = (m: string) => serverError('BAD_REQUEST', m);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw fail('trace setting request must be a JSON object');
  const update: { -readonly [K in keyof TraceUpdate]: TraceUpdate[K] } = {};
  const text = (key: string, v: unknown): string => {
    if (typeof v !== 'string') throw fail(`'${quote(key)}' must be a string (or null to clear it), got ${v === null ? 'null' : typeof v}`);
    return v;
  };
  for (const [key, v] of Object.entries(body)) {
    switch (key) {
      case 'trace_level':
        if (v === null) update.level = null;
        else if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'string')) throw fail("'trace_level' must be an array of strings: OFF, or TIMESTAMPS and/or TENSORS (or null to clear it)");
        else update.level = levels(v as string[], "'trace_level'", fail);
        break;
      case 'trace_rate':
        update.rate = v === null ? null : integerIn(text(key, v), 0, UINT32_MAX, 'trace_rate', fail);
        break;
      case 'trace_count':
        update.count = v === null ? null : integerIn(text(key, v), -1, INT32_MAX, 'trace_count', fail);
        break;
      case 'log_frequency':
        update.logFrequency = v === null ? null : integerIn(text(key, v), 0, UINT32_MAX, 'log_frequency', fail);
        break;
      case 'trace_file':
        throw serverError('UNSUPPORTED', 'trace file location can not be updated through network protocol');
      case 'trace_mode':
        if (v !== null && v !== 'triton') throw fail(`'trace_mode' can not be changed at run time (it is 'triton')`);
        break;
      default:
        throw fail(`unknown trace setting '${quote(key)}' (known: trace_level, trace_rate, trace_count, log_frequency, trace_file, trace_mode)`);
    }
  }
  return update;
}
