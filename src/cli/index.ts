/** The public surface of src/cli/. */
export * from './cache-options.ts';
export * from './cli-options.ts';
export * from './grpc-cli-options.ts';
export * from './observability-options.ts';
export * from './trace-settings.ts';
export * from './restricted-options.ts';
export * from './triton-flags.ts';
