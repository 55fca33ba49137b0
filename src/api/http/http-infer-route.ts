/**
 * `POST /v2/models/{m}[/versions/{v}]/infer`: JSON bodies and Triton's binary tensor data
 * extension in, JSON or binary outputs back.
 * Order of work: split and parse the header → check it against the model → only then convert
 * tensor data → run → encode.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { InferOutput } from '../../inference/index.ts';
import type { RequestRegions } from '../../inference/index.ts';
import type { InferResponse } from '../../inference/index.ts';
import { regionResponseParameters } from '../../shm/index.ts';
import type { ApiContext } from '../shared/api-context.ts';
import { splitBinaryBody } from '../../protocol/index.ts';
import { decodeInferRequest, materializeInputs, outputJsonData, parseJson } from './codec-json.ts';
import { CancelSource, runInference, type DecodedOutput } from '../../inference/index.ts';
import { outputBytes } from '../../inference/index.ts';
import type { BytesForm } from '../../bytes-elements.ts';

const HEADER_LENGTH = 'inference-header-content-length';
const EMPTY = Buffer.alloc(0);

export function inferRoute(app: FastifyInstance, ctx: ApiContext): void {
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const { model, version } = req.params as { model: string; version?: string };
    const body = Buffer.isBuffer(req.body) ? req.body : EMPTY;
    const headerLength = req.headers[HEADER_LENGTH];
    const { header, binary } = typeof headerLength === 'string' ? splitBinaryBody(body, headerLength) : { header: body, binary: EMPTY };
    // The model first, as Triton: a request for an unknown or unready model says so, whatever
    // its body. (Under --model-memory-budget a model may load on demand: that waits for a body
    // worth loading it for.)
    const known = ctx.models.onDemand ? null : ctx.registry.ready(model, version);
    const decoded = decodeInferRequest(parseJson(header, ctx.maxJsonDepth, ctx.limits.maxElements));
    if (known === null) await ctx.models.ensureLoaded(model);
    const target = known ?? ctx.registry.ready(model, version);
    // The response closes before it is written only when the client went away: then a request
    // still in the queue is withdrawn instead of run for nobody. (A close after the answer was
    // written aborts a settled request, which does nothing.)
    const gone = new CancelSource();
    reply.raw.once('close', () => {
      if (!reply.raw.writableEnded) gone.abort();
    });
    return runInference(ctx.clientRegions, target, decoded,
      (regions) => materializeInputs(decoded.inputs, binary, decoded.id, target.config.name, regions, target.bytesForm),
      (response, regions) => {
        const binaryNames = decoded.outputs
          ? new Set(decoded.outputs.filter((o) => o.binary).map((o) => o.name))
          : new Set(decoded.parameters.binary_data_output === true ? response.outputs.map((o) => o.name) : []);
        return sendResponse(reply, response, binaryNames, regions.used ? { outputs: decoded.outputs, regions } : null, target.bytesForm);
      },
      { signal: gone.signal, limits: ctx.limits, endpoint: 'HTTP end point' });
  };
  app.post('/v2/models/:model/infer', handler);
  app.post('/v2/models/:model/versions/:version/infer', handler);
}

/** The outputs written into client regions: answered with the region's parameters, no data. */
interface RegionOutputs {
  readonly outputs: readonly DecodedOutput[] | null;
  readonly regions: RequestRegions;
}

function sendResponse(reply: FastifyReply, response: InferResponse, binaryNames: ReadonlySet<string>, inRegions: RegionOutputs | null, form: BytesForm = 'text'): FastifyReply {
  const parts: Buffer[] = [];
  const outputs = response.outputs.map((o: InferOutput) => {
    const head = `{"name":${JSON.stringify(o.name)},"datatype":"${o.datatype.wire}","shape":[${o.shape.join(',')}]`;
    const region = inRegions?.outputs?.find((r) => r.name === o.name)?.region;
    if (region) {
      return `${head},"parameters":${JSON.stringify(regionResponseParameters(region, inRegions!.regions.bytesWritten(o.name)))}}`;
    }
    if (binaryNames.has(o.name)) {
      const bytes = outputBytes(o, form);
      parts.push(bytes);
      return `${head},"parameters":{"binary_data_size":${bytes.length}}}`;
    }
    return `${head},"data":${outputJsonData(o, form)}}`;
  });
  const id = response.id !== undefined ? `"id":${JSON.stringify(response.id)},` : '';
  const json = `{${id}"model_name":${JSON.stringify(response.modelName)},"model_version":"${response.modelVersion}","outputs":[${outputs.join(',')}]}`;
  if (parts.length === 0) {
    return reply.type('application/json').send(json);
  }
  const headerBytes = Buffer.from(json, 'utf8');
  reply.header('Inference-Header-Content-Length', String(headerBytes.length));
  return reply.type('application/octet-stream').send(Buffer.concat([headerBytes, ...parts]));
}
