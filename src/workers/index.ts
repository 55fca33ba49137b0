/** The public surface of src/workers/. */
export * from './protocol.ts';
