/**
 * Raw HTTP requests for the end-to-end tests (where the test needs bytes and headers that the
 * client library hides), and request bodies for the example models.
 */
import http from 'node:http';
import { sequence, type TestServer } from './server.ts';

export interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/**
 * One request over node:http, which (unlike fetch) neither adds Accept-Encoding nor
 * decompresses the answer.
 */
export function request(url: string, options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? (options.body === undefined ? 'GET' : 'POST'), headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/**
 * A GET (or, with a body, a POST of a JSON value or text as is, like postJson) through fastify's
 * inject(): the route's answer without a socket, for tests whose subject is the route and not the
 * transport.
 */
export async function inject(s: TestServer, path: string, body?: unknown): Promise<RawResponse> {
  const res = await s.server.http!.inject(body === undefined
    ? { method: 'GET', url: path }
    : { method: 'POST', url: path, payload: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { status: res.statusCode, headers: res.headers as http.IncomingHttpHeaders, body: res.rawPayload };
}

/** POSTs a JSON value (or text as is) and returns the raw answer. */
export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return request(url, { method: 'POST', body: text, headers: { 'content-type': 'application/json', ...headers } });
}

/** The JSON body of a response. */
export function jsonOf(res: RawResponse): any {
  return JSON.parse(res.body.toString('utf8'));
}

/** A binary-extension body: the JSON header, then the parts, with the header length to send. */
export function binaryBody(header: unknown, parts: readonly Uint8Array[]): { body: Buffer; headers: Record<string, string> } {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  return {
    body: Buffer.concat([json, ...parts]),
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(json.length) },
  };
}

/** Splits a binary-extension response into its JSON header and the bytes after it. */
export function splitResponse(res: RawResponse): { header: any; binary: Buffer } {
  const length = Number(res.headers['inference-header-content-length']);
  return { header: JSON.parse(res.body.subarray(0, length).toString('utf8')), binary: res.body.subarray(length) };
}

/** A JSON request for the `simple` model: INPUT0 = sequence(rows), INPUT1 = all ones. */
export function simpleRequest(rows = 1, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    inputs: [
      { name: 'INPUT0', datatype: 'INT32', shape: [rows, 16], data: sequence(rows) },
      { name: 'INPUT1', datatype: 'INT32', shape: [rows, 16], data: new Array(rows * 16).fill(1) },
    ],
    ...extra,
  };
}

/** Little-endian INT32 bytes. */
export function int32Bytes(values: readonly number[]): Buffer {
  return Buffer.from(new Int32Array(values).buffer);
}
