/** The public surface of src/instance/. */
export * from './cuda-provider.ts';
export * from './device-discovery.ts';
export * from './instance-set.ts';
export * from './model-instance.ts';
export { PiscinaInstance } from './piscina-instance.ts';
/** What the primary must know of a model's backend (whether it carries BYTES as raw bytes). */
export { backendCapabilities, type BackendCapabilities } from '../workers/index.ts';
/** A decoupled model's response, as a run delivers it. */
export type { StreamedResponse } from '../workers/index.ts';
