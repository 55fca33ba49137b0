/**
 * ModelInfer and ModelStreamInfer. One path serves both: find the ready model version → read
 * and check the header → build the input buffers (leasing client shared-memory regions named in
 * tensor parameters) → enqueue → encode the outputs → release the leases.
 *
 * On a stream, requests run concurrently, but responses are written in the order the requests
 * came (as Triton does for models that answer each request once), so a client may match them
 * by position as well as by id. A failed request answers with error_message and its id, and the
 * stream goes on.
 */
import type * as grpc from '@grpc/grpc-js';
import { serverError, ServerError } from '../../errors.ts';
import type { ApiContext } from '../shared/api-context.ts';
import { decodeGrpcInferRequest, encodeGrpcInferResponse, materializeGrpcInputs } from './codec-protobuf.ts';
import { grpcErrorReply } from '../shared/error-reply.ts';
import { encodeModelInferResponse, MalformedInferRequest, parametersToMessage, readModelInferRequest } from '../../protocol/index.ts';
import type { ModelInferRequestMessage, ModelInferResponseMessage, ModelStreamInferResponseMessage } from '../../protocol/index.ts';
import type { UnaryRoute } from './grpc-unary-direct.ts';
import { CancelSource, runInference, type CancelSignal } from '../../inference/index.ts';

/** Called with every error that is not the client's fault (INTERNAL), for the log. */
export type InternalErrorLog = (err: unknown, what: string) => void;

/**
 * Runs one inference request; rejects with a ServerError (or, for a bug, anything else). Leases
 * on client shared-memory regions are held until the response is encoded, as over HTTP.
 */
export async function runGrpcInfer(ctx: ApiContext, msg: ModelInferRequestMessage | MalformedInferRequest, signal?: CancelSignal): Promise<ModelInferResponseMessage> {
  if (msg instanceof MalformedInferRequest) {
    if (msg.overLimit) throw serverError('OVER_LIMIT', `${msg.reason}, more than a request of at most ${ctx.limits.maxElements} elements can need (--max-request-elements)`);
    throw serverError('BAD_REQUEST', `the request is not a ModelInferRequest: ${msg.reason}`);
  }
  // --model-memory-budget: a model that is not loaded loads now (the request waits for it).
  if (ctx.models.onDemand) await ctx.models.ensureLoaded(msg.model_name);
  const target = ctx.registry.ready(msg.model_name, msg.model_version);
  const decoded = decodeGrpcInferRequest(msg);
  return runInference(ctx.clientRegions, target, decoded,
    (regions) => materializeGrpcInputs(msg, target.config.name, regions, decoded, target.bytesForm),
    (response, regions) => encodeGrpcInferResponse(response, decoded.outputs, regions, target.bytesForm),
    { signal, limits: ctx.limits, endpoint: 'ModelInfer RPC' });
}

/**
 * A request on a stream: as runGrpcInfer, except that a decoupled model's responses are written
 * with `write` as they come, each with Triton's `triton_final_response` parameter (true on the
 * last), and a final flag without a response becomes an empty response only when the request
 * sets `triton_enable_empty_final_response`. Resolves to null for a decoupled model (everything
 * was written), or to the one response of any other model.
 */
async function runGrpcStreamInfer(
  ctx: ApiContext, msg: ModelInferRequestMessage | MalformedInferRequest, signal: CancelSignal, write: (reply: ModelStreamInferResponseMessage) => void,
): Promise<ModelInferResponseMessage | null> {
  if (msg instanceof MalformedInferRequest || !ctx.registry.ready(msg.model_name, msg.model_version).config.decoupled) return runGrpcInfer(ctx, msg, signal);
  const target = ctx.registry.ready(msg.model_name, msg.model_version);
  const decoded = decodeGrpcInferRequest(msg);
  const emptyFinal = decoded.parameters.triton_enable_empty_final_response === true;
  const header = { model_name: target.config.name, model_version: String(target.version), id: msg.id };
  await runInference(ctx.clientRegions, target, decoded,
    (regions) => materializeGrpcInputs(msg, target.config.name, regions, decoded, target.bytesForm),
    () => null,
    {
      signal,
      limits: ctx.limits,
      respond: (r) => {
        const parameters = parametersToMessage({ triton_final_response: r.final });
        if (r.error !== null) {
          write({ error_message: r.error, infer_response: { ...header, parameters, outputs: [], raw_output_contents: [] } });
        } else if (r.outputs !== null) {
          const response = encodeGrpcInferResponse({ id: msg.id, modelName: target.config.name, modelVersion: target.version, outputs: r.outputs }, decoded.outputs, undefined, target.bytesForm);
          write({ error_message: '', infer_response: { ...response, parameters } });
        } else if (r.final && emptyFinal) {
          write({ error_message: '', infer_response: { ...header, parameters, outputs: [], raw_output_contents: [] } });
        }
      },
    });
  return null;
}

/** Values a message may hold besides one per element: its structure (tensors, dims, parameters). */
const kStructureValues = 65536;

/** The most values a request message may make when read (grpc-infer-wire-read.ts). */
export const maxMessageValues = (ctx: ApiContext): number => ctx.limits.maxElements + kStructureValues;

const isInternal = (err: unknown): boolean => !(err instanceof ServerError) || err.kind === 'INTERNAL';

/**
 * ModelInfer from request bytes to response bytes, for the direct route (grpc-unary-direct.ts):
 * the same work as the grpc-js handler below, with the codec grpc-js would call.
 */
export function modelInferOnBytes(ctx: ApiContext, logInternal: InternalErrorLog): UnaryRoute['call'] {
  return async (request, signal) => {
    try {
      return encodeModelInferResponse(await runGrpcInfer(ctx, readModelInferRequest(request, maxMessageValues(ctx)), signal));
    } catch (err) {
      if (isInternal(err)) logInternal(err, 'ModelInfer');
      return grpcErrorReply(err);
    }
  };
}

/** The streams open now: each ends, once its answers are written, with the status given. */
export class OpenStreams {
  private readonly ends = new Set<(status: { code: number; details: string }) => void>();
  private emptyWaiters: (() => void)[] = [];

  get size(): number {
    return this.ends.size;
  }

  add(end: (status: { code: number; details: string }) => void): () => void {
    this.ends.add(end);
    return () => {
      if (this.ends.delete(end) && this.ends.size === 0) for (const wake of this.emptyWaiters.splice(0)) wake();
    };
  }

  /** Resolves the next time no stream is open (now, if none is). */
  empty(): Promise<void> {
    if (this.ends.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptyWaiters.push(resolve));
  }

  /** Ends every open stream with `status` (shutdown), after the answers already due. */
  endAll(status: { code: number; details: string }): void {
    for (const end of [...this.ends]) end(status);
  }
}

/** The two inference handlers, for grpc.Server.addService. */
export function grpcInferHandlers(ctx: ApiContext, logInternal: InternalErrorLog, streams: OpenStreams = new OpenStreams()): grpc.UntypedServiceImplementation {
  const ModelInfer = (
    call: grpc.ServerUnaryCall<ModelInferRequestMessage | MalformedInferRequest, ModelInferResponseMessage>,
    callback: grpc.sendUnaryData<ModelInferResponseMessage>,
  ): void => {
    // A call the client cancels (or whose deadline passes) leaves the queue if it still waits.
    const cancelled = new CancelSource();
    call.once('cancelled', () => cancelled.abort());
    runGrpcInfer(ctx, call.request, cancelled.signal).then(
      (response) => callback(null, response),
      (err: unknown) => {
        if (isInternal(err)) logInternal(err, 'ModelInfer');
        callback(grpcErrorReply(err));
      },
    );
  };

  const ModelStreamInfer = (call: grpc.ServerDuplexStream<ModelInferRequestMessage | MalformedInferRequest, ModelStreamInferResponseMessage>): void => {
    // `written` settles after the previous response is written: chaining each response on it
    // keeps request order while the requests themselves run side by side.
    let written: Promise<void> = Promise.resolve();
    let open = true;
    // When the stream is cancelled, its requests still in a queue are withdrawn.
    const cancelled = new CancelSource();
    // On shutdown the server ends the stream itself, with a status, once every answer due on it
    // has been written (a client may keep a stream open for ever).
    const forget = streams.add((status) => {
      written.then(() => {
        if (open) call.emit('error', status); // grpc-js: sets the status and ends the call
      });
    });
    const stop = () => {
      open = false;
      forget();
      cancelled.abort();
    };
    call.on('cancelled', stop);
    call.on('error', stop);
    call.on('finish', forget);
    call.on('data', (msg: ModelInferRequestMessage | MalformedInferRequest) => {
      // A decoupled model's responses are written as they come, not in request order.
      const answer = runGrpcStreamInfer(ctx, msg, cancelled.signal, (reply) => {
        if (open) call.write(reply);
      }).then(
        (response): ModelStreamInferResponseMessage | null => (response === null ? null : { error_message: '', infer_response: response }),
        (err: unknown): ModelStreamInferResponseMessage => {
          if (isInternal(err)) logInternal(err, 'ModelStreamInfer');
          return {
            error_message: grpcErrorReply(err).details,
            // Only the id, so the client knows which request failed.
            infer_response: { model_name: '', model_version: '', id: msg instanceof MalformedInferRequest ? '' : msg.id, parameters: {}, outputs: [], raw_output_contents: [] },
          };
        },
      );
      written = written.then(() => answer).then((reply) => {
        if (open && reply !== null) call.write(reply);
      });
    });
    call.on('end', () => {
      written.then(() => {
        if (open) call.end();
      });
    });
  };

  return { ModelInfer, ModelStreamInfer };
}
