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
  PERMISSION_DENIED: 7,
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
  PERMISSION_DENIED: { httpStatus: 403, grpcCode: GrpcCode.PERMISSION_DENIED },
  /** Only HTTP bodies have a media type; gRPC never raises it. */
  UNSUPPORTED_MEDIA_TYPE: { httpStatus: 415, grpcCode: GrpcCode.INVALID_ARGUMENT },
} as const;

type ErrorKind = keyof typeof ErrorKinds;

interface ErrorEntry {
  readonly kind: ErrorKind;
  /**
   * Message template; each `%s` or `%v` takes the next argument. `%s` is text the server wrote
   * (a number, a message built with `quote`); `%v` is a value taken from the request (a name, an
   * id, a version), shown through `quote`: never more than a short prefix of it. Triton's wording
   * where clients read it.
   */
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
  UNKNOWN_INPUT: { kind: 'INVALID_ARG', message: "unexpected inference input '%v' for model '%v'" },
  UNKNOWN_OUTPUT: { kind: 'INVALID_ARG', message: "unexpected inference output '%v' for model '%v'" },
  MISSING_INPUT: { kind: 'INVALID_ARG', message: "expected %s inputs but got %s inputs for model '%v'. Got input(s) %s, but missing required input(s) %s. Please provide all required input(s)." },
  DUPLICATE_INPUT: { kind: 'INVALID_ARG', message: "input '%v' is given more than once for model '%v'" },
  DUPLICATE_OUTPUT: { kind: 'INVALID_ARG', message: "output '%v' is requested more than once for model '%v'" },
  WRONG_DATATYPE: { kind: 'INVALID_ARG', message: "[request id: %v] inference input '%v' data-type is '%v', but model '%v' expects '%s'" },
  WRONG_SHAPE: { kind: 'INVALID_ARG', message: "[request id: %v] unexpected shape for input '%v' for model '%v'. Expected %s, got %s. %s" },
  BATCH_TOO_LARGE: { kind: 'INVALID_ARG', message: "[request id: %v] inference request batch-size must be <= %s for '%v'" },
  BATCH_TOO_SMALL: { kind: 'INVALID_ARG', message: "[request id: %v] inference request batch-size must be >= 1 for '%v'" },
  DATA_SIZE_MISMATCH: { kind: 'INVALID_ARG', message: '[request id: %v] %s' },
  BAD_DATA: { kind: 'INVALID_ARG', message: '[request id: %v] %s' },
  BAD_PARAMETER: { kind: 'INVALID_ARG', message: '%s' },
  SEQUENCE_PARAMETER: { kind: 'INVALID_ARG', message: "inference request to model '%v' sets parameter '%v', which only a model with sequence_batching takes" },
  RESERVED_PARAMETER: { kind: 'INVALID_ARG', message: "parameter keys starting with 'triton_' are reserved for Triton usage and should not be specified." },
  // Models and versions.
  UNKNOWN_MODEL: { kind: 'NOT_FOUND', message: "Request for unknown model: '%v' is not found" },
  UNKNOWN_MODEL_VERSION: { kind: 'NOT_FOUND', message: "Request for unknown model: '%v' version %v is not found" },
  BAD_MODEL_VERSION: { kind: 'INVALID_ARG', message: "failed to get model version from specified version string '%v' (details: %s), version should be an integral value > 0" },
  NEGATIVE_MODEL_VERSION: { kind: 'INVALID_ARG', message: "invalid model version specified '%v' , version should be an integral value > 0" },
  MODEL_NOT_READY: { kind: 'UNAVAILABLE', message: "Request for unknown model: '%v' has no available versions" },
  MODEL_CONTROL_DISABLED: { kind: 'UNAVAILABLE', message: 'explicit model load / unload is not allowed if polling is enabled' },
  MODEL_POLL_FAILED: { kind: 'INTERNAL', message: "failed to load '%v', failed to poll from model repository%s" },
  MODEL_LOAD_WAIT: { kind: 'UNAVAILABLE', message: "model '%v' did not finish loading on demand within %s s (--model-load-wait-secs)" },
  LOAD_FAILED: { kind: 'INVALID_ARG', message: "load failed for model '%v': %s" },
  MODEL_LOAD_FAILED: { kind: 'INVALID_ARG', message: "failed to load '%s': %s" },
  BAD_CONFIG: { kind: 'INVALID_ARG', message: '%s' },
  // Limits and lifecycle.
  BODY_TOO_LARGE: { kind: 'TOO_LARGE', message: 'request body is larger than the limit of %s bytes (--http-max-input-size)' },
  /** A request over one of the budgets of docs/limits.md; the message names the limit and its flag. */
  OVER_LIMIT: { kind: 'TOO_LARGE', message: '%s' },
  /** A BYTES element the model's backend cannot carry exactly (onnxruntime: NUL, invalid UTF-8). */
  BYTES_NOT_EXACT: { kind: 'INVALID_ARG', message: "[request id: %v] input '%v': BYTES element %s %s; this model's backend takes BYTES elements as UTF-8 text without NUL bytes, so the element cannot be passed on unchanged" },
  SERVER_CLOSING: { kind: 'UNAVAILABLE', message: 'Server is shutting down' },
  EXIT_TIMEOUT: { kind: 'UNAVAILABLE', message: 'Server is shutting down: the request was still queued when --exit-timeout-secs=%s ran out' },
  // Access control (Triton's restricted APIs and protocols).
  RESTRICTED_API: { kind: 'PERMISSION_DENIED', message: "This API is restricted, expecting header '%s'" },
  RESTRICTED_PROTOCOL: { kind: 'PERMISSION_DENIED', message: "This protocol is restricted, expecting header '%s'" },
  SETTINGS_NOT_JSON: { kind: 'UNSUPPORTED_MEDIA_TYPE', message: "%s takes a body of Content-Type application/json, got '%s'" },
  QUEUE_FULL: { kind: 'UNAVAILABLE', message: 'Exceeds maximum queue size' },
  REQUEST_TIMEOUT: { kind: 'UNAVAILABLE', message: 'Request timeout expired' },
  REQUEST_CANCELLED: { kind: 'CANCELLED', message: 'Request was cancelled' },
  UNSUPPORTED: { kind: 'UNSUPPORTED', message: '%s' },
  DECOUPLED_UNSUPPORTED: { kind: 'UNSUPPORTED', message: "%s doesn't support models with decoupled transaction policy" },
  // Client shared memory (messages name regions by their name, never by another region's key).
  SHM_DISABLED: { kind: 'UNSUPPORTED', message: "Client shared memory is disabled. Start the server with '--allow-client-shm=true' to enable." },
  SHM_BAD_REGISTER: { kind: 'INVALID_ARG', message: "failed to register shared memory region '%v': %s" },
  SHM_ALREADY_REGISTERED: { kind: 'ALREADY_EXISTS', message: "shared memory region '%v' already in manager" },
  SHM_OVER_LIMIT: { kind: 'TOO_LARGE', message: "failed to register shared memory region '%v': %s" },
  SHM_UNKNOWN_REGION: { kind: 'NOT_FOUND', message: "Unable to find shared memory region: '%v'" },
  SHM_STATUS_UNKNOWN: { kind: 'NOT_FOUND', message: "Unable to find %s shared memory region: '%v'" },
  SHM_BAD_OFFSET: { kind: 'INVALID_ARG', message: "Invalid offset for shared memory region: '%v'" },
  SHM_BAD_RANGE: { kind: 'INVALID_ARG', message: "Invalid offset + byte size for shared memory region: '%v'" },
  SHM_INPUT_SIZE: { kind: 'INVALID_ARG', message: "[request id: %v] input byte size mismatch for input '%v' for model '%v'. Expected %s, got %s" },
  SHM_OUTPUT_TOO_SMALL: { kind: 'INVALID_ARG', message: "shared memory size specified with the request for output '%v' (%s bytes) should be at least %s bytes to hold the results" },
  SHM_IO_FAILED: { kind: 'INVALID_ARG', message: "shared memory region '%v' could not be %s: %s" },
  CUDA_SHM_UNAVAILABLE: { kind: 'UNSUPPORTED', message: "failed to register CUDA shared memory region: '%v', %s" },
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
    super(capMessage(message));
    this.name = 'ServerError';
    const entry: ErrorEntry = ErrorTable[reason];
    this.reason = reason;
    this.kind = entry.kind;
    this.httpStatus = ErrorKinds[entry.kind].httpStatus;
    this.grpcCode = ErrorKinds[entry.kind].grpcCode;
  }
}

/** `s` with lone surrogates replaced by U+FFFD: String#toWellFormed (Node 20; this lib's types predate it). */
export const wellFormed = (s: string): string => (s as unknown as { toWellFormed(): string }).toWellFormed();

/** Whether `s` has no lone surrogate, so that it has a UTF-8 form: String#isWellFormed. */
export const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/** The most characters of a request value an error message shows. */
export const kQuotedChars = 64;

/**
 * A value from a request as an error message may show it: as it is when short, else its first
 * `kQuotedChars` characters and its length ("abc… (102400 characters)"). Every error that echoes
 * a name, id, dims or parameter of a request goes through here, so no error grows with the
 * request (a status message must fit an HTTP/2 header block, an HTTP error body stays small).
 * Control characters are shown escaped, so a message stays one line.
 */
export function quote(value: unknown): string {
  const text = typeof value === 'string' ? value : String(value);
  // toWellFormed: a cut through a surrogate pair (or a lone one from the request) would make
  // encodeURI, which writes grpc-message, throw.
  const shown = wellFormed(text.length > kQuotedChars ? text.slice(0, kQuotedChars) : text);
  const escaped = shown.replace(/[\u0000-\u001f\u007f]/g, (c: string) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return text.length > kQuotedChars ? `${escaped}… (${text.length} characters)` : escaped;
}

/** The longest message a ServerError keeps, in characters (a backstop: values are quoted). */
export const kMaxMessageChars = 4096;

/** Fills a template's `%s` and `%v` with the arguments, in order (`%v` through quote). */
function formatMessage(template: string, args: readonly unknown[]): string {
  let i = 0;
  return template.replace(/%[sv]/g, (m) => (m === '%v' ? quote(args[i++]) : String(args[i++])));
}

/** `message`, cut to `max` characters with its length said when longer. */
export function capMessage(message: string, max = kMaxMessageChars): string {
  return message.length <= max ? message : `${wellFormed(message.slice(0, max))}… (message cut at ${max} of ${message.length} characters)`;
}

/** Builds the ServerError for `reason` with its message template filled from `args`. */
export function serverError(reason: ErrorReason, ...args: unknown[]): ServerError {
  return new ServerError(reason, formatMessage(ErrorTable[reason].message, args));
}
