/**
 * The server's one logger: pino, handed to fastify (and to the other front-ends) so that every
 * line is structured JSON under the same settings. The settings are read as lines are written:
 * the level follows the verbose level (set again on each change), a pino hook drops info, warn
 * or error lines whose switch is off, and the time field is epoch ms ("default") or an ISO 8601
 * string ("ISO8601"). The hook and the time function run only for lines that are written, and
 * nothing is logged per request unless the verbose level is 1 or more.
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
    timestamp: () => (settings.format === 'ISO8601' ? `,"time":"${new Date().toISOString()}"` : `,"time":${Date.now()}`),
    hooks: {
      logMethod(args, method, level) {
        if (settings.allows(level)) method.apply(this, args);
      },
    },
  }, destination);
  settings.onChange(() => {
    logger.level = settings.threshold;
  });
  return logger;
}
