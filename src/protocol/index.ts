/** The public surface of src/protocol/. */
export * from './binary-tensor.ts';
export * from './grpc-infer-wire.ts';
export * from './grpc-messages.ts';
export * from './grpc-proto.ts';
