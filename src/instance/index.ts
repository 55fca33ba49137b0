/** The public surface of src/instance/. */
export * from './cuda-provider.ts';
export * from './device-discovery.ts';
export * from './instance-set.ts';
export * from './model-instance.ts';
export { PiscinaInstance } from './piscina-instance.ts';
