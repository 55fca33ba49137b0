/**
 * The gRPC schemas (src/proto/grpc_service.proto with model_config.proto), loaded once with
 * @grpc/proto-loader for both the server and the client in src/client.
 *
 * Loader options, and why: field names stay snake_case (as in Triton's protos and JSON); 64-bit
 * integers arrive as decimal strings, so an INT64 tensor value or a shape past 2^53 is never
 * rounded through a double; enums as names; every field present with its default, so handlers
 * read '' and [] instead of checking for undefined; a oneof's chosen member is named.
 *
 * ModelInfer and ModelStreamInfer, the calls on the inference path, carry their messages through
 * the hand-written codec of grpc-infer-wire.ts instead, which gives the same plain objects at
 * a fraction of the cost; the schema (for reflection) and every other RPC stay proto-loader's.
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import {
  decodeModelInferRequest,
  decodeModelInferResponse,
  decodeModelStreamInferResponse,
  encodeModelInferRequest,
  encodeModelInferResponse,
  encodeModelStreamInferResponse,
  readModelInferRequest,
  type ModelInferRequestInput,
} from './grpc-infer-wire.ts';

const kProtoDir = fileURLToPath(new URL('./proto/', import.meta.url));

/** The loader options for every gRPC schema in the project. */
export const GRPC_LOADER_OPTIONS: protoLoader.Options = Object.freeze({
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [kProtoDir],
});

/** The fully qualified name of Triton's inference service. */
export const INFERENCE_SERVICE = 'inference.GRPCInferenceService';
/** The fully qualified name of the standard health service. */
const HEALTH_SERVICE = 'grpc.health.v1.Health';

let cachedInference: protoLoader.PackageDefinition | undefined;
let cachedHealth: protoLoader.PackageDefinition | undefined;
let cachedService: grpc.ServiceDefinition | undefined;

/** The `inference` package: the service, its messages and ModelConfig. */
export function inferencePackageDefinition(): protoLoader.PackageDefinition {
  cachedInference ??= protoLoader.loadSync('grpc_service.proto', GRPC_LOADER_OPTIONS);
  return cachedInference;
}

/** grpc.health.v1, from the proto file grpc-health-check ships. */
export function healthPackageDefinition(): protoLoader.PackageDefinition {
  cachedHealth ??= protoLoader.loadSync(healthProtoPath, { ...GRPC_LOADER_OPTIONS, includeDirs: [] });
  return cachedHealth;
}

/** The inference service's method table, for grpc.Server.addService and for clients. */
export function inferenceServiceDefinition(): grpc.ServiceDefinition {
  cachedService ??= withInferWireCodec(inferencePackageDefinition()[INFERENCE_SERVICE] as grpc.ServiceDefinition, readModelInferRequest);
  return cachedService;
}

/**
 * The method table for a server whose request messages may hold at most `maxValues` values
 * (a message over it reaches the handler as a MalformedInferRequest marked overLimit).
 */
export function inferenceServerDefinition(maxValues: number): grpc.ServiceDefinition {
  const read = (bytes: Buffer) => readModelInferRequest(bytes, maxValues);
  return withInferWireCodec(inferencePackageDefinition()[INFERENCE_SERVICE] as grpc.ServiceDefinition, read);
}

/**
 * A request message, or a request already encoded (a Buffer, sent as it is: a client that sends
 * the same request again and again encodes it once).
 */
export type ModelInferRequestOrBytes = ModelInferRequestInput | Buffer;

const serializeRequest = (m: ModelInferRequestOrBytes): Buffer => (Buffer.isBuffer(m) ? m : encodeModelInferRequest(m));

/**
 * The service's methods, with ModelInfer and ModelStreamInfer on the hand-written codec. The
 * server's decoder does not throw: malformed request bytes reach the handler, which answers
 * INVALID_ARGUMENT.
 */
function withInferWireCodec(service: grpc.ServiceDefinition, readRequest: (bytes: Buffer) => unknown): grpc.ServiceDefinition {
  return {
    ...service,
    ModelInfer: {
      ...service.ModelInfer,
      requestSerialize: serializeRequest,
      requestDeserialize: readRequest,
      responseSerialize: encodeModelInferResponse,
      responseDeserialize: decodeModelInferResponse,
    },
    ModelStreamInfer: {
      ...service.ModelStreamInfer,
      requestSerialize: serializeRequest,
      requestDeserialize: readRequest,
      responseSerialize: encodeModelStreamInferResponse,
      responseDeserialize: decodeModelStreamInferResponse,
    },
  };
}

/** A client class for the inference service (methods named as the RPCs). */
export function inferenceClientConstructor(): grpc.ServiceClientConstructor {
  return grpc.makeGenericClientConstructor(inferenceServiceDefinition(), 'GRPCInferenceService');
}

/** A client class for grpc.health.v1.Health. */
export function healthClientConstructor(): grpc.ServiceClientConstructor {
  return grpc.makeGenericClientConstructor(healthPackageDefinition()[HEALTH_SERVICE] as grpc.ServiceDefinition, 'Health');
}
