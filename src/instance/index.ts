/** The public surface of src/instance/. */
export * from './cuda-provider.ts';
export * from './device-discovery.ts';
export * from './instance-pool.ts';
