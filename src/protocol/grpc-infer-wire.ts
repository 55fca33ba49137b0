/**
 * The inference messages of Triton's grpc_service.proto on the wire: ModelInferRequest,
 * ModelInferResponse and ModelStreamInferResponse, both ways, read and written field by field by
 * hand over protobufjs's wire-format Reader and Writer. The server decodes requests and encodes
 * responses with these; the client in src/client does the reverse. The rest of the schema goes
 * through @grpc/proto-loader.
 *
 * Why by hand: proto-loader decodes into protobufjs message objects and then converts them into
 * plain objects (toObject), and encodes by converting plain objects into message objects
 * (fromObject) first; for a small ModelInfer call those conversions cost more than the wire
 * format itself. Reading and writing the plain objects directly skips both (bench/grpc-codec.ts
 * compares the two).
 *
 * Field numbers are the proto's:
 *
 *   InferParameter            oneof parameter_choice { bool 1, int64 2, string 3, double 4, uint64 5 }
 *   InferTensorContents       bool 1, int32 2, int64 3, uint32 4, uint64 5, float 6, double 7, bytes 8
 *   tensor (input and output) name 1, datatype 2, shape 3, parameters 4, contents 5
 *   InferRequestedOutputTensor name 1, parameters 2
 *   ModelInferRequest         model_name 1, model_version 2, id 3, parameters 4, inputs 5,
 *                             outputs 6, raw_input_contents 7
 *   ModelInferResponse        model_name 1, model_version 2, id 3, parameters 4, outputs 5,
 *                             raw_output_contents 6
 *   ModelStreamInferResponse  error_message 1, infer_response 2
 *
 * Decoding gives exactly the plain objects that @grpc/proto-loader gives with the options of
 * grpc-proto.ts (every field present, 64-bit integers as decimal strings, `parameter_choice`
 * naming a parameter's member, bytes as views into the message), so the code after it is the
 * same either way. Unknown fields, and known fields of an unexpected wire type, are skipped.
 * Encoding leaves out fields at their default ('' and empty lists), as protobuf's own encoders
 * do; a parameter's value is always written (it is a oneof member). 64-bit integers may be
 * given to the encoders as numbers, decimal strings or bigints.
 */
import { decodeModelInferRequest as decodeRequest, MessageOverLimit } from './grpc-infer-wire-read.ts';
import type { ModelInferRequestMessage } from './grpc-messages.ts';

export { decodeModelInferRequest, decodeModelInferResponse, decodeModelStreamInferResponse, MessageOverLimit } from './grpc-infer-wire-read.ts';
export { encodeModelInferRequest, encodeModelInferResponse, encodeModelStreamInferResponse } from './grpc-infer-wire-write.ts';
export type { ModelInferRequestInput } from './grpc-infer-wire-write.ts';

/**
 * Request bytes that are not a ModelInferRequest, carried to the handler in place of the message,
 * so the call is answered INVALID_ARGUMENT (a bad request) rather than grpc-js's INTERNAL
 * "Error deserializing request", and a stream carrying it goes on.
 */
export class MalformedInferRequest {
  /** `overLimit`: the bytes were not malformed, but held more values than allowed (413-like). */
  constructor(readonly reason: string, readonly overLimit = false) {}
}

/**
 * decodeModelInferRequest for the server: malformed bytes, or bytes holding more than
 * `maxValues` values, give a MalformedInferRequest instead of throwing.
 */
export function readModelInferRequest(bytes: Buffer, maxValues = Infinity): ModelInferRequestMessage | MalformedInferRequest {
  try {
    return decodeRequest(bytes, maxValues);
  } catch (err) {
    return new MalformedInferRequest((err as Error).message, err instanceof MessageOverLimit);
  }
}
