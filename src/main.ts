/**
 * The `nereid` command: parse flags, start the server, log the ports, stop cleanly on
 * SIGINT/SIGTERM: every request already received is answered (its result, or 503 /
 * UNAVAILABLE once --exit-timeout-secs has passed), the runtime sessions are released, and the
 * process exits 0 (docs/shutdown.md). Every line after the flags are read goes through the
 * server's logger (--log-file, --log-format); a bad flag, a log file that cannot be opened, and
 * the error that stops the server are (also) told on stderr. With --exit-on-error (Triton's
 * default) a start-up error exits 1 with one line: a repository that cannot be read, a model
 * that fails to load, a port in use.
 */
import { ServerError } from './errors.ts';
import { ignoredFlagsWarning, parseCliOptions, USAGE } from './cli/index.ts';
import { createServerLog, startServer, VERSION, type ServerLog } from './server/index.ts';

/** The logger, once the flags are read; lines before that go to stderr. */
let log: ServerLog | null = null;

async function main(): Promise<void> {
  let options;
  try {
    options = parseCliOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`nereid: ${(err as Error).message}\n`);
    process.exit(2);
  }
  if (options.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (options.version) {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  try {
    log = createServerLog(options);
  } catch (err) {
    process.stderr.write(`nereid: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const logger = log.logger.child({ component: 'server' });
  const warning = ignoredFlagsWarning(options.tritonFlagsIgnored);
  if (warning) logger.warn(warning);
  // The handlers go in before the start: the HTTP port answers before the last model has loaded,
  // and a signal then must drain like any other, not kill the process with Node's default action.
  let server: Awaited<ReturnType<typeof startServer>> | null = null;
  let pendingSignal: string | null = null;
  let stopping = false;
  const stop = (signal: string) => {
    if (server === null) {
      if (pendingSignal === null) logger.info(`${signal}: stopping once the start-up has finished`);
      pendingSignal ??= signal;
      return;
    }
    const running = server;
    if (stopping) {
      // Exiting now would stop worker threads in the middle of a run, which aborts the process
      // and answers nobody; the exit timeout already bounds the wait for queued requests.
      logger.info(`${signal}: already stopping; waiting for the batches at the instances to finish`);
      return;
    }
    stopping = true;
    logger.info(`${signal}: finishing in-flight requests (up to ${options.exitTimeoutSecs} s)`);
    running.close().then(() => {
      logger.info('stopped: every request answered, models unloaded');
      log?.logger.flush();
      process.exit(0);
    }, (err) => {
      logger.error(`error while stopping: ${(err as Error).message}`);
      log?.logger.flush();
      process.exit(1);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  server = await startServer(options, { log, failOnModelError: options.exitOnError });
  if (pendingSignal !== null) stop(pendingSignal);
}

main().catch((err) => {
  // A repository that cannot be read or a port in use is the operator's to fix: say what, no
  // stack. Anything else is ours: the stack helps.
  const expected = err instanceof ServerError || typeof (err as NodeJS.ErrnoException)?.code === 'string';
  const message = expected ? (err as Error).message : (err as Error).stack ?? String(err);
  // The last words go to stderr, where an operator (or a container runtime) looks when a process
  // exits; a --log-file gets the line too, so that the file tells the whole story.
  if (log !== null && log.settings.file !== '') log.logger.child({ component: 'server' }).error(message);
  process.stderr.write(`nereid: ${message}\n`);
  process.exit(1);
});
