/** The public surface of src/api/. */
export * from './grpc/grpc-server.ts';
export * from './http/http-server.ts';
export * from './metrics/metrics-server.ts';
export * from './shared/api-context.ts';
