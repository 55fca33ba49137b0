/**
 * Triton's generate extension: `POST /v2/models/<m>[/versions/<v>]/generate` and
 * `.../generate_stream`. The request is one JSON object: each key other than `id` and
 * `parameters` names a model input, its value a scalar or an array (shape [1] or [n], with the
 * batch dim [1, …] for a model with batching), its datatype the config's; `parameters` are the
 * request's. A response is one JSON object: `model_name`, `model_version`, `id` when given, and
 * each output by name, a single element as a scalar, more as an array. /generate answers it as
 * JSON (a decoupled model is refused, as Triton does); /generate_stream as server-sent events,
 * one `data:` event per response, so a decoupled model's responses stream as they come; an
 * error before inference is a JSON error with its status, one after is an `{"error"}` event.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { datatypeFromWire, elementCount } from '../../dtypes.ts';
import { serverError } from '../../errors.ts';
import type { ApiContext } from '../shared/api-context.ts';
import { outputJsonData, parseJson } from './codec-json.ts';
import { httpErrorReply } from '../shared/error-reply.ts';
import type { BytesForm } from '../../bytes-elements.ts';
import { CancelSource, runInference, tensorFromValues, type DecodedInference, type InferOutput, type TensorData } from '../../inference/index.ts';

const EMPTY = Buffer.alloc(0);

/** A generate request's inputs as an inference request, and their values. */
function decodeGenerate(body: unknown, ctx: ApiContext, model: string, version: string | undefined) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw serverError('BAD_REQUEST', 'the generate request must be a JSON object');
  const target = ctx.registry.ready(model, version);
  const { id, parameters, ...fields } = body as Record<string, unknown>;
  if (id !== undefined && typeof id !== 'string') throw serverError('BAD_REQUEST', "the generate request's 'id' must be a string");
  if (parameters !== undefined && (parameters === null || typeof parameters !== 'object' || Array.isArray(parameters))) {
    throw serverError('BAD_REQUEST', "the generate request's 'parameters' must be an object");
  }
  const batched = target.config.maxBatchSize > 0;
  const values: unknown[][] = [];
  const inputs = Object.entries(fields).map(([name, value]) => {
    const spec = target.config.inputs.find((t) => t.name === name);
    const flat = Array.isArray(value) ? (value as unknown[]).flat(Infinity) : [value];
    values.push(flat);
    const shape = Array.isArray(value) ? [flat.length] : [1];
    // An unknown name keeps a datatype of its own kind, so checkRequest names it as Triton does.
    return { name, datatype: spec?.datatype.wire ?? (typeof value === 'string' ? 'BYTES' : 'FP32'), shape: batched ? [1, ...shape] : shape };
  });
  const decoded: DecodedInference = { id, inputs, outputs: null, parameters: (parameters ?? {}) as Record<string, unknown> };
  const materialize = (): TensorData[] => inputs.map((input, k) => {
    const dt = datatypeFromWire(input.datatype)!;
    return tensorFromValues(input.name, dt, elementCount(input.shape), values[k], id ?? '<id_unknown>', target.bytesForm);
  });
  return { target, decoded, materialize };
}

/** One response as the generate extension's JSON object. */
function responseJson(modelName: string, modelVersion: number, id: string | undefined, outputs: readonly InferOutput[], form: BytesForm): string {
  const parts = [`"model_name":${JSON.stringify(modelName)}`, `"model_version":${JSON.stringify(String(modelVersion))}`];
  if (id !== undefined) parts.push(`"id":${JSON.stringify(id)}`);
  for (const o of outputs) {
    const data = outputJsonData(o, form);
    const count = elementCount(o.shape);
    // A single element is the value itself: strip the array's brackets from its JSON text.
    parts.push(`${JSON.stringify(o.name)}:${count === 1 ? data.slice(1, -1) : data}`);
  }
  return `{${parts.join(',')}}`;
}

export function generateRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const generate = async (req: FastifyRequest, reply: FastifyReply) => {
    const { model, version } = req.params as { model: string; version?: string };
    const { target, decoded, materialize } = decodeGenerate(parseJson(Buffer.isBuffer(req.body) ? req.body : EMPTY, ctx.maxJsonDepth), ctx, model, version);
    const gone = new CancelSource();
    reply.raw.once('close', () => {
      if (!reply.raw.writableEnded) gone.abort();
    });
    const json = await runInference(ctx.clientRegions, target, decoded, materialize,
      (response) => responseJson(response.modelName, response.modelVersion, decoded.id, response.outputs, target.bytesForm),
      { signal: gone.signal, endpoint: 'HTTP end point' });
    return reply.type('application/json').send(json);
  };

  const generateStream = async (req: FastifyRequest, reply: FastifyReply) => {
    const { model, version } = req.params as { model: string; version?: string };
    const { target, decoded, materialize } = decodeGenerate(parseJson(Buffer.isBuffer(req.body) ? req.body : EMPTY, ctx.maxJsonDepth), ctx, model, version);
    const gone = new CancelSource();
    reply.raw.once('close', () => {
      if (!reply.raw.writableEnded) gone.abort();
    });
    // The status goes with the first event; an error before any is a plain JSON error.
    let started = false;
    const event = (json: string): void => {
      if (!started) {
        started = true;
        reply.hijack();
        reply.raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
      }
      if (!reply.raw.writableEnded) reply.raw.write(`data: ${json}\n\n`);
    };
    try {
      const json = await runInference(ctx.clientRegions, target, decoded, materialize,
        (response) => responseJson(response.modelName, response.modelVersion, decoded.id, response.outputs, target.bytesForm),
        {
          signal: gone.signal,
          respond: (r) => {
            if (r.error !== null) event(JSON.stringify({ error: r.error }));
            else if (r.outputs !== null) event(responseJson(target.config.name, target.version, decoded.id, r.outputs, target.bytesForm));
          },
        });
      if (!target.config.decoupled) event(json);
    } catch (err) {
      if (!started) throw err;
      event(JSON.stringify({ error: httpErrorReply(err, { maxInputSizeBytes: ctx.maxInputSizeBytes }).body.error }));
    }
    if (!started) {
      reply.hijack();
      reply.raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    }
    reply.raw.end();
  };

  app.post('/v2/models/:model/generate', generate);
  app.post('/v2/models/:model/versions/:version/generate', generate);
  app.post('/v2/models/:model/generate_stream', generateStream);
  app.post('/v2/models/:model/versions/:version/generate_stream', generateStream);
}
