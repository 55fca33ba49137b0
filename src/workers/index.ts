/** The public surface of src/workers/: the messages to and from a worker, and its backends. */
export * from './protocol.ts';
export * from './backends/index.ts';
export { encodeDescriptor } from './descriptor-codec.ts';
