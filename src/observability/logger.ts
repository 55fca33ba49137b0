/**
 * The server's one logger: pino, handed to fastify (and to the other front-ends) so that every
 * line goes through the same settings and the same destination. The settings are read as lines
 * are written: the level follows the verbose level (set again on each change), a pino hook drops
 * info, warn or error lines whose switch is off, and the format picks the line's shape:
 *
 * - `default`, Triton's:  `I1206 03:35:08.123456 4242 server] model 'simple' version 1: READY`
 *   (severity letter and month/day, UTC time with microseconds, pid, the component in place of
 *   Triton's file:line, then the message),
 * - `ISO8601`, Triton's:  `2026-12-06T03:35:08Z I 4242 server] model 'simple' version 1: READY`,
 * - `json`: pino's JSON line (`level`, `time` in epoch ms, `pid`, `component`, `msg`, fields).
 *
 * The text formats are made from pino's JSON line (so fastify's serializers and bindings apply):
 * a JSON.parse per written line, which costs nothing per request unless the verbose level is 1
 * or more. Messages are kept on one line (control characters are escaped, as Triton escapes its
 * messages), so each record is one line of the file.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogSettings } from './log-settings.ts';

export type { Logger } from 'pino';

/** Where lines go: `--log-file` (appended, written synchronously so no line is lost on exit), else stdout. */
export function logDestination(settings: LogSettings, discard = false): DestinationStream {
  if (settings.file !== '') {
    try {
      return pino.destination({ dest: settings.file, append: true, sync: true });
    } catch (err) {
      throw new Error(`--log-file: cannot open '${settings.file}': ${(err as Error).message}`);
    }
  }
  if (discard) return { write: () => {} };
  return pino.destination({ dest: 1, sync: false });
}

/** A logger bound to `settings`; it follows their changes for as long as it lives. */
export function createLogger(settings: LogSettings, destination: DestinationStream): Logger {
  const logger = pino({
    level: settings.threshold,
    base: { pid: process.pid },
    hooks: {
      logMethod(args, method, level) {
        if (settings.allows(level)) method.apply(this, args);
      },
    },
  }, formattingStream(settings, destination));
  settings.onChange(() => {
    logger.level = settings.threshold;
  });
  return logger;
}

/** pino's numeric levels: warn and error (fatal is above error). */
const WARN = 40;
const ERROR = 50;

/** Fields a text line shows in its preamble, or not at all. */
const PREAMBLE = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'component']);

/**
 * Passes JSON lines through under the `json` format, and turns them into Triton's text lines
 * under the others; forwards flush so `logger.flush()` still reaches the file or stdout.
 */
function formattingStream(settings: LogSettings, destination: DestinationStream): DestinationStream {
  const out = destination as DestinationStream & { flush?: (cb?: (err?: Error) => void) => void; flushSync?: () => void };
  const stream = {
    write(line: string): void {
      if (settings.format === 'json') {
        out.write(line);
        return;
      }
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        out.write(line);
        return;
      }
      out.write(textLine(record, settings.format === 'ISO8601', nowMicros()));
    },
    flush(cb?: (err?: Error) => void): void {
      if (out.flush) out.flush(cb);
      else cb?.();
    },
    flushSync(): void {
      out.flushSync?.();
    },
  };
  return stream;
}

/** The wall clock in microseconds (Date.now() has only milliseconds). */
function nowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** One record as Triton's `default` (or, with `iso`, `ISO8601`) text line, at `micros` since the epoch. */
export function textLine(record: Record<string, unknown>, iso: boolean, micros: number): string {
  const level = typeof record.level === 'number' ? record.level : 30;
  const severity = level >= ERROR ? 'E' : level >= WARN ? 'W' : 'I';
  const t = new Date(Math.floor(micros / 1000));
  const component = typeof record.component === 'string' ? record.component : 'nereid';
  const pid = typeof record.pid === 'number' ? record.pid : process.pid;
  const preamble = iso
    ? `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}T${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}Z ${severity}`
    : `${severity}${pad(t.getUTCMonth() + 1)}${pad(t.getUTCDate())} ${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}.${pad(micros % 1_000_000, 6)}`;
  let message = typeof record.msg === 'string' ? record.msg : '';
  for (const key in record) {
    if (PREAMBLE.has(key)) continue;
    const value = record[key];
    if (key === 'err' && value !== null && typeof value === 'object') {
      const err = value as { message?: unknown; stack?: unknown };
      message += `: ${typeof err.stack === 'string' ? err.stack : String(err.message)}`;
    } else {
      message += ` ${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`;
    }
  }
  return `${preamble} ${pid} ${component}] ${oneLine(message)}\n`;
}

/** Escapes control characters (a newline becomes `\n`), so that a record is one line. */
function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1));
}
