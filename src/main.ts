/**
 * The `nereid` command: parse flags, start the server, print the ports, stop cleanly on
 * SIGINT/SIGTERM (exit 0 once in-flight work is done or --exit-timeout-secs has passed).
 * With --exit-on-error (Triton's default) a start-up error exits 1 with one line: a repository
 * that cannot be read, a model that fails to load, a port in use.
 */
import { ServerError } from './errors.ts';
import { ignoredFlagsWarning, parseCliOptions, USAGE } from './cli/index.ts';
import { startServer, VERSION } from './server/index.ts';

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
  const warning = ignoredFlagsWarning(options.tritonFlagsIgnored);
  if (warning) process.stderr.write(`nereid: ${warning}\n`);
  const server = await startServer(options, {
    announce: (line) => process.stdout.write(`${line}\n`),
    failOnModelError: options.exitOnError,
  });
  if (server.httpPort !== null) {
    process.stdout.write(`Started HTTPService at ${options.httpAddress}:${server.httpPort}\n`);
  }
  if (server.grpc !== null) {
    process.stdout.write(`Started GRPCInferenceService at ${server.grpc.endpoint}\n`);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: finishing in-flight requests (up to ${options.exitTimeoutSecs} s)\n`);
    server.close().then(() => process.exit(0), (err) => {
      process.stderr.write(`nereid: error while stopping: ${(err as Error).message}\n`);
      process.exit(1);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err) => {
  // A repository that cannot be read or a port in use is the operator's to fix: say what, no
  // stack. Anything else is ours: the stack helps.
  const expected = err instanceof ServerError || typeof (err as NodeJS.ErrnoException)?.code === 'string';
  process.stderr.write(`nereid: ${expected ? (err as Error).message : (err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
