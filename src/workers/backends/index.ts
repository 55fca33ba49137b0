/**
 * The public surface of src/workers/backends/: the Backend interface a runtime implements, and
 * the registry that maps a model config's `backend` name to the module implementing it. The
 * modules themselves (onnxruntime.ts) are imported by worker threads only, by URL.
 */
export type {
  Backend, BackendHost, BackendMetadata, BackendModule, BackendSetup, BatchRequests, CallTensor, HostInferRequest, HostInferResult, HostTensor, HostTensors, IoMetadata, NumericHostTensor, RequestsOutcome, StreamedResponse, StringHostTensor,
} from './backend.ts';
export { isStringHostTensor } from './backend.ts';
export { backendCapabilities, backendModuleUrl, registerBackend, type BackendCapabilities } from './backend-registry.ts';
