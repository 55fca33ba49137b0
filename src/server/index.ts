/** The public surface of src/server/. */
export * from './server-lifecycle.ts';
