/**
 * One error type for the whole server, built only through the table below (fastify style).
 *
 * A ServerError carries a stable `reason`, an HTTP status and a gRPC status code. Only
 * src/api turns it into a protocol reply (api/error-reply.ts). It deliberately has no `code`
 * field: grpc-js reads a string `code` as UNKNOWN.
 */

/** gRPC status codes (the numeric values of grpc.status), kept here so this leaf imports nothing. */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

/** Triton's status kinds and the protocol statuses each maps to. */
const ErrorKinds = {
  INVALID_ARG: { httpStatus: 400, grpcCode: GrpcCode.INVALID_ARGUMENT },
  NOT_FOUND: { httpStatus: 404, grpcCode: GrpcCode.NOT_FOUND },
  UNAVAILABLE: { httpStatus: 503, grpcCode: GrpcCode.UNAVAILABLE },
  TOO_LARGE: { httpStatus: 413, grpcCode: GrpcCode.RESOURCE_EXHAUSTED },
  UNSUPPORTED: { httpStatus: 501, grpcCode: GrpcCode.UNIMPLEMENTED },
  ALREADY_EXISTS: { httpStatus: 400, grpcCode: GrpcCode.ALREADY_EXISTS },
  CANCELLED: { httpStatus: 400, grpcCode: GrpcCode.CANCELLED },
  INTERNAL: { httpStatus: 500, grpcCode: GrpcCode.INTERNAL },
} as const;

type ErrorKind = keyof typeof ErrorKinds;

interface ErrorEntry {
  readonly kind: ErrorKind;
  /** Message template; each `%s` takes the next argument. Triton's wording where clients read it. */
  readonly message: string;
}

/** Every error the server can answer with. Keys are the stable reasons. */
const ErrorTable = {
  // Request shape and content.
  BAD_REQUEST: { kind: 'INVALID_ARG', message: '%s' },
  MALFORMED_JSON: { kind: 'INVALID_ARG', message: 'failed to parse the request JSON buffer: %s' },
  JSON_TOO_DEEP: { kind: 'INVALID_ARG', message: 'request JSON is nested deeper than %s levels' },
  BAD_HEADER_LENGTH: { kind: 'INVALID_ARG', message: 'Inference-Header-Content-Length %s' },
  BINARY_SIZE_MISMATCH: { kind: 'INVALID_ARG', message: '%s' },
  UNKNOWN_INPUT: { kind: 'INVALID_ARG', message: "unexpected inference input '%s' for model '%s'" },
  UNKNOWN_OUTPUT: { kind: 'INVALID_ARG', message: "unexpected inference output '%s' for model '%s'" },
  MISSING_INPUT: { kind: 'INVALID_ARG', message: "expected %s inputs but got %s inputs for model '%s'. Got input(s) %s, but missing required input(s) %s. Please provide all required input(s)." },
  DUPLICATE_INPUT: { kind: 'INVALID_ARG', message: "input '%s' is given more than once for model '%s'" },
  DUPLICATE_OUTPUT: { kind: 'INVALID_ARG', message: "output '%s' is requested more than once for model '%s'" },
  WRONG_DATATYPE: { kind: 'INVALID_ARG', message: "[request id: %s] inference input '%s' data-type is '%s', but model '%s' expects '%s'" },
  WRONG_SHAPE: { kind: 'INVALID_ARG', message: "[request id: %s] unexpected shape for input '%s' for model '%s'. Expected %s, got %s. %s" },
  BATCH_TOO_LARGE: { kind: 'INVALID_ARG', message: "[request id: %s] inference request batch-size must be <= %s for '%s'" },
  BATCH_TOO_SMALL: { kind: 'INVALID_ARG', message: "[request id: %s] inference request batch-size must be >= 1 for '%s'" },
  DATA_SIZE_MISMATCH: { kind: 'INVALID_ARG', message: "[request id: %s] %s" },
  BAD_DATA: { kind: 'INVALID_ARG', message: "[request id: %s] %s" },
  BAD_PARAMETER: { kind: 'INVALID_ARG', message: '%s' },
  SEQUENCE_PARAMETER: { kind: 'INVALID_ARG', message: "inference request to model '%s' sets parameter '%s', which only a model with sequence_batching takes" },
  // Models and versions.
  UNKNOWN_MODEL: { kind: 'NOT_FOUND', message: "Request for unknown model: '%s' is not found" },
  UNKNOWN_MODEL_VERSION: { kind: 'NOT_FOUND', message: "Request for unknown model: '%s' version %s is not found" },
  BAD_MODEL_VERSION: { kind: 'INVALID_ARG', message: "failed to get model version from specified version string '%s' (details: %s), version should be an integral value > 0" },
  NEGATIVE_MODEL_VERSION: { kind: 'INVALID_ARG', message: "invalid model version specified '%s' , version should be an integral value > 0" },
  MODEL_NOT_READY: { kind: 'UNAVAILABLE', message: "Request for unknown model: '%s' has no available versions" },
  MODEL_LOAD_FAILED: { kind: 'INVALID_ARG', message: "failed to load '%s': %s" },
  BAD_CONFIG: { kind: 'INVALID_ARG', message: '%s' },
  // Limits and lifecycle.
  BODY_TOO_LARGE: { kind: 'TOO_LARGE', message: 'request body is larger than the limit of %s bytes (--http-max-input-size)' },
  SERVER_CLOSING: { kind: 'UNAVAILABLE', message: 'Server is shutting down' },
  QUEUE_FULL: { kind: 'UNAVAILABLE', message: 'Exceeds maximum queue size' },
  REQUEST_TIMEOUT: { kind: 'UNAVAILABLE', message: 'Request timeout expired' },
  REQUEST_CANCELLED: { kind: 'CANCELLED', message: 'Request was cancelled' },
  UNSUPPORTED: { kind: 'UNSUPPORTED', message: '%s' },
  DECOUPLED_UNSUPPORTED: { kind: 'UNSUPPORTED', message: "%s doesn't support models with decoupled transaction policy" },
  // Client shared memory (messages name regions by their name, never by another region's key).
  SHM_DISABLED: { kind: 'UNSUPPORTED', message: "Client shared memory is disabled. Start the server with '--allow-client-shm=true' to enable." },
  SHM_BAD_REGISTER: { kind: 'INVALID_ARG', message: "failed to register shared memory region '%s': %s" },
  SHM_ALREADY_REGISTERED: { kind: 'ALREADY_EXISTS', message: "shared memory region '%s' already in manager" },
  SHM_OVER_LIMIT: { kind: 'TOO_LARGE', message: "failed to register shared memory region '%s': %s" },
  SHM_UNKNOWN_REGION: { kind: 'NOT_FOUND', message: "Unable to find shared memory region: '%s'" },
  SHM_STATUS_UNKNOWN: { kind: 'NOT_FOUND', message: "Unable to find %s shared memory region: '%s'" },
  SHM_BAD_OFFSET: { kind: 'INVALID_ARG', message: "Invalid offset for shared memory region: '%s'" },
  SHM_BAD_RANGE: { kind: 'INVALID_ARG', message: "Invalid offset + byte size for shared memory region: '%s'" },
  SHM_INPUT_SIZE: { kind: 'INVALID_ARG', message: "[request id: %s] input byte size mismatch for input '%s' for model '%s'. Expected %s, got %s" },
  SHM_OUTPUT_TOO_SMALL: { kind: 'INVALID_ARG', message: "shared memory size specified with the request for output '%s' (%s bytes) should be at least %s bytes to hold the results" },
  SHM_IO_FAILED: { kind: 'INVALID_ARG', message: "shared memory region '%s' could not be %s: %s" },
  CUDA_SHM_UNAVAILABLE: { kind: 'UNSUPPORTED', message: "failed to register CUDA shared memory region: '%s', %s" },
  // Execution.
  EXECUTION_FAILED: { kind: 'INTERNAL', message: "model '%s': %s" },
  INTERNAL: { kind: 'INTERNAL', message: '%s' },
} as const satisfies Record<string, ErrorEntry>;

export type ErrorReason = keyof typeof ErrorTable;

/** The one error class. Build it with `serverError(reason, ...args)`. */
export class ServerError extends Error {
  readonly reason: ErrorReason;
  readonly httpStatus: number;
  readonly grpcCode: number;
  readonly kind: ErrorKind;

  constructor(reason: ErrorReason, message: string) {
    super(message);
    this.name = 'ServerError';
    const entry: ErrorEntry = ErrorTable[reason];
    this.reason = reason;
    this.kind = entry.kind;
    this.httpStatus = ErrorKinds[entry.kind].httpStatus;
    this.grpcCode = ErrorKinds[entry.kind].grpcCode;
  }
}

/** Fills a `%s` template with the arguments, in order. */
function formatMessage(template: string, args: readonly unknown[]): string {
  let i = 0;
  return template.replace(/%s/g, () => String(args[i++]));
}

/** Builds the ServerError for `reason` with its message template filled from `args`. */
export function serverError(reason: ErrorReason, ...args: unknown[]): ServerError {
  return new ServerError(reason, formatMessage(ErrorTable[reason].message, args));
}
