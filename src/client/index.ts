export { HttpClient, HttpError, encodeInferRequest, decodeInferResponse, tensorBytes } from './http-client.ts';
export type { ClientTensor, ClientOutput, InferOptions, InferResult } from './http-client.ts';
