/**
 * The `nereid` package's server API: start a server from code with the same options the
 * command takes. The clients are in `nereid/client`.
 *
 * ```js
 * import { parseCliOptions, startServer } from 'nereid';
 * const server = await startServer(parseCliOptions(['--model-repository', './models', '--http-port', '0']));
 * console.log(server.httpPort);
 * await server.close();
 * ```
 */
export { DEFAULT_OPTIONS, parseCliOptions, USAGE } from './cli/index.ts';
export type { GrpcOptions, LogOptions, MetricsOptions, ServerOptions, TraceSetting } from './cli/index.ts';
export { startServer, VERSION } from './server/index.ts';
export type { RunningServer } from './server/index.ts';
