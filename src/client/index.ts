export { GrpcClient, GrpcInferStream } from './grpc-client.ts';
export type { GrpcClientOptions, ModelMetadataResult, StreamResult, TensorMetadataResult } from './grpc-client.ts';
export { encodeGrpcInferRequest, decodeGrpcInferResponse, typedContents } from './grpc-tensor-codec.ts';
export type { GrpcInferOptions, GrpcInferResult } from './grpc-tensor-codec.ts';
export { HttpClient, HttpError, encodeInferRequest, decodeInferResponse, sharedMemoryParameters, tensorBytes } from './http-client.ts';
export type { ClientTensor, ClientShmTensor, ClientOutput, InferOptions, InferResult, RequestedClientOutput, SharedMemoryRef, SystemShmStatus } from './http-client.ts';
export { SharedMemoryRegion, SHM_DIRECTORY } from './shm-client.ts';
