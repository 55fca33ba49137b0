/**
 * The logging settings, changeable at run time through Triton's logging extension (HTTP
 * `/v2/logging`, and gRPC LogSettings): info, warning and error logs each on or off, the verbose
 * level, the format of each line (Triton's default or ISO8601 text, or JSON), and the log file (fixed at start, as in Triton).
 * The logger (logger.ts) reads these on every line it writes, so a change applies at once.
 */
import { quote, serverError } from '../errors.ts';
import { LOG_FORMATS, type LogFormat, type LogOptions } from '../cli/index.ts';

/** The logging extension's JSON, with Triton's field names. */
export interface LogSettingsJson {
  log_file: string;
  log_info: boolean;
  log_warning: boolean;
  log_error: boolean;
  log_verbose_level: number;
  log_format: LogFormat;
}

/** pino's numeric levels (info, warn; error and fatal are above). */
const INFO = 30;
const WARN = 40;

/** Largest verbose level (Triton keeps it in an int32). */
const MAX_VERBOSE = 2 ** 31 - 1;

export class LogSettings {
  info: boolean;
  warning: boolean;
  error: boolean;
  verbose: number;
  format: LogFormat;
  readonly file: string;
  private readonly listeners: (() => void)[] = [];

  constructor(options: LogOptions, verbose: number) {
    this.info = options.logInfo;
    this.warning = options.logWarning;
    this.error = options.logError;
    this.format = options.logFormat;
    this.file = options.logFile;
    this.verbose = verbose;
  }

  /** The lowest pino level worth formatting: trace at verbose 2 and up, debug at 1, else info. */
  get threshold(): 'trace' | 'debug' | 'info' {
    return this.verbose >= 2 ? 'trace' : this.verbose >= 1 ? 'debug' : 'info';
  }

  /**
   * Whether a line of pino level `level` is written under the on/off switches. Verbose lines
   * (debug, trace) are already kept out by the logger's level, set from `threshold`.
   */
  allows(level: number): boolean {
    if (level < INFO) return true;
    if (level < WARN) return this.info;
    if (level < WARN + 10) return this.warning;
    return this.error;
  }

  /** Calls `listener` after each change. */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  toJson(): LogSettingsJson {
    return {
      log_file: this.file,
      log_info: this.info,
      log_warning: this.warning,
      log_error: this.error,
      log_verbose_level: this.verbose,
      log_format: this.format,
    };
  }

  /**
   * Applies a logging extension update: any of log_info, log_warning, log_error (booleans),
   * log_verbose_level (a non-negative integer), log_format ('default', 'ISO8601' or 'json'); a null
   * value leaves that setting as it is, as in Triton. log_file cannot change (501, as Triton).
   * Everything is checked before anything changes; a bad field is a ServerError naming it.
   * Returns the settings now in force.
   */
  update(body: unknown): LogSettingsJson {
    const fail = (m: string) => serverError('BAD_REQUEST', m);
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw fail('log setting request must be a JSON object');
    const next = { info: this.info, warning: this.warning, error: this.error, verbose: this.verbose, format: this.format };
    const flag = (key: string, v: unknown): boolean => {
      if (typeof v !== 'boolean') throw fail(`'${quote(key)}' must be a boolean, got ${typeof v}`);
      return v;
    };
    for (const [key, v] of Object.entries(body)) {
      if (v === null) continue;
      switch (key) {
        case 'log_file':
          throw serverError('UNSUPPORTED', 'log file location can not be updated through network protocol');
        case 'log_info': next.info = flag(key, v); break;
        case 'log_warning': next.warning = flag(key, v); break;
        case 'log_error': next.error = flag(key, v); break;
        case 'log_verbose_level':
          if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_VERBOSE) {
            throw fail(`'log_verbose_level' must be an integer from 0 to ${MAX_VERBOSE}, got ${quote(JSON.stringify(v))}`);
          }
          next.verbose = v;
          break;
        case 'log_format':
          if (typeof v !== 'string' || !(LOG_FORMATS as readonly string[]).includes(v)) {
            throw fail(`invalid argument for --log_format, got: ${quote(typeof v === 'string' ? v : JSON.stringify(v))} (expected default, ISO8601 or json)`);
          }
          next.format = v as LogFormat;
          break;
        default:
          throw fail(`unknown log setting '${quote(key)}' (known: log_file, log_info, log_warning, log_error, log_verbose_level, log_format)`);
      }
    }
    Object.assign(this, next);
    for (const listener of this.listeners) listener();
    return this.toJson();
  }
}
