/**
 * The `nereid` command: parse flags, start the server, print the ports, stop cleanly on
 * SIGINT/SIGTERM: every request already received is answered (its result, or 503 /
 * UNAVAILABLE once --exit-timeout-secs has passed), the runtime sessions are released, and the
 * process exits 0 (docs/shutdown.md).
 */
import { ServerError } from './errors.ts';
import { parseCliOptions, USAGE } from './cli/index.ts';
import { startServer } from './server/index.ts';

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
  const server = await startServer(options, { announce: (line) => process.stdout.write(`${line}\n`) });
  if (server.httpPort !== null) {
    process.stdout.write(`Started HTTPService at ${options.httpAddress}:${server.httpPort}\n`);
  }
  if (server.grpc !== null) {
    process.stdout.write(`Started GRPCInferenceService at ${server.grpc.endpoint}\n`);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      // Exiting now would stop worker threads in the middle of a run, which aborts the process
      // and answers nobody; the exit timeout already bounds the wait for queued requests.
      process.stdout.write(`${signal}: already stopping; waiting for the batches at the instances to finish\n`);
      return;
    }
    stopping = true;
    process.stdout.write(`${signal}: finishing in-flight requests (up to ${options.exitTimeoutSecs} s)\n`);
    server.close().then(() => {
      process.stdout.write('stopped: every request answered, models unloaded\n');
      process.exit(0);
    }, (err) => {
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
