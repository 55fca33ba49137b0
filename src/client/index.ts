export { HttpClient, HttpError, encodeInferRequest, decodeInferResponse, sharedMemoryParameters, tensorBytes } from './http-client.ts';
export type { ClientTensor, ClientShmTensor, ClientOutput, InferOptions, InferResult, RequestedClientOutput, SharedMemoryRef, SystemShmStatus } from './http-client.ts';
export { SharedMemoryRegion, SHM_DIRECTORY } from './shm-client.ts';
