export { HttpClient, HttpError, encodeInferRequest, decodeInferResponse, tensorBytes } from './http-client.ts';
export type { ClientTensor, ClientOutput, InferOptions, InferResult } from './http-client.ts';
export { GrpcClient, GrpcInferStream } from './grpc-client.ts';
export type { GrpcClientOptions, ModelMetadataResult, StreamResult, TensorMetadataResult } from './grpc-client.ts';
export { encodeGrpcInferRequest, decodeGrpcInferResponse, typedContents } from './grpc-tensor-codec.ts';
export type { GrpcInferOptions, GrpcInferResult } from './grpc-tensor-codec.ts';
