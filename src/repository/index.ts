/** The public surface of src/repository/. */
export * from './model-lifecycle.ts';
export * from './model-manager.ts';
export * from './override-files.ts';
export * from './model-registry.ts';
export * from './model-repository.ts';
export type { Scheduler } from '../scheduler/index.ts';
