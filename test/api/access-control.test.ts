/**
 * Triton's access control: --http-restricted-api and --grpc-restricted-protocol (groups, header,
 * 403 / PERMISSION_DENIED with Triton's message), the one table that puts every route and RPC in
 * a group, and settings endpoints that take JSON bodies only (415 otherwise).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { buildHttpServer, type ApiContext } from '../../src/api/index.ts';
import { GRPC_METHOD_GROUPS, HTTP_ROUTE_GROUPS } from '../../src/api/shared/api-groups.ts';
import { API_GROUPS, parseCliOptions } from '../../src/cli/index.ts';
import { healthPackageDefinition, inferencePackageDefinition } from '../../src/protocol/index.ts';
import { startGrpcTestServer, simpleInputs, type GrpcTestServer } from '../helpers/grpc.ts';
import { jsonOf, request, simpleRequest } from '../helpers/http.ts';
import { repositoryOf } from '../helpers/server.ts';

const PERMISSION_DENIED = grpc.status.PERMISSION_DENIED;

/** Every method path of the services in a package definition. */
function methodPaths(definition: Record<string, unknown>): string[] {
  return Object.values(definition).flatMap((service) => Object.values(service as Record<string, { path?: unknown }>)
    .map((m) => m?.path).filter((p): p is string => typeof p === 'string'));
}

describe('the API group table', () => {
  test('names every route the HTTP server registers, and nothing else', async () => {
    const ctx = { maxInputSizeBytes: 1024, maxJsonDepth: 10, logSettings: { verbose: 0 } } as unknown as ApiContext;
    const app = await buildHttpServer(ctx, { logger: pino({ level: 'silent' }) });
    for (const route of Object.keys(HTTP_ROUTE_GROUPS)) {
      const [method, url] = route.split(' ');
      assert.ok(app.hasRoute({ method: method as 'GET', url }), `${route} is in the table but not served`);
    }
    // A route added without a group is refused when it is registered, not served unguarded.
    assert.throws(() => app.post('/v2/models/:model/secret', async () => ({})), /HTTP route POST \/v2\/models\/:model\/secret has no API group/);
    await app.close();
  });

  test('names every gRPC method of the inference, health and reflection services, in one of Triton\'s groups', () => {
    const served = [...methodPaths(inferencePackageDefinition()), ...methodPaths(healthPackageDefinition())];
    assert.ok(served.includes('/inference.GRPCInferenceService/ModelStreamInfer'));
    assert.deepEqual(served.filter((p) => GRPC_METHOD_GROUPS[p] === undefined), []);
    const reflection = Object.keys(GRPC_METHOD_GROUPS).filter((p) => !served.includes(p));
    assert.deepEqual(reflection.sort(), ['/grpc.reflection.v1.ServerReflection/ServerReflectionInfo', '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo']);
    for (const group of [...Object.values(GRPC_METHOD_GROUPS), ...Object.values(HTTP_ROUTE_GROUPS)]) assert.ok(API_GROUPS.includes(group), group);
    assert.deepEqual(new Set(Object.values(GRPC_METHOD_GROUPS)), new Set(API_GROUPS));
  });
});

describe('the restricted flags', () => {
  const parse = (...args: string[]) => parseCliOptions(args);

  test('take a list of groups and a key=value, repeatably, with the gRPC key prefixed as in Triton', () => {
    const o = parse('--http-restricted-api=model-repository,logging:Admin-Key=a=b', '--http-restricted-api=inference:infer-key=x', '--grpc-restricted-protocol=trace:k=v');
    assert.deepEqual([...o.httpRestrictedApis], [
      ['model-repository', { name: 'Admin-Key', header: 'admin-key', value: 'a=b' }],
      ['logging', { name: 'Admin-Key', header: 'admin-key', value: 'a=b' }],
      ['inference', { name: 'infer-key', header: 'infer-key', value: 'x' }],
    ]);
    assert.deepEqual([...o.grpcRestrictedProtocols], [['trace', { name: 'triton-grpc-protocol-k', header: 'triton-grpc-protocol-k', value: 'v' }]]);
    assert.equal(parse().httpRestrictedApis.size, 0);
  });

  for (const [arg, message] of [
    ['--http-restricted-api=logging', /--http-restricted-api option format is '<api list>:<key>=<value>'.*Got 'logging'/],
    ['--http-restricted-api=logging:key', /option format/],
    ['--http-restricted-api=logging:key=', /option format/],
    ['--http-restricted-api=:key=value', /option format/],
    ['--grpc-restricted-protocol=metrics:k=v', /--grpc-restricted-protocol: unknown restricted protocol 'metrics'/],
    ['--http-restricted-api=logging,logging:k=v', /restricted api 'logging' can not be specified in multiple config groups/],
  ] as const) {
    test(`refuses ${arg}`, () => assert.throws(() => parse(arg), message));
  }

  test('refuses a group given in two flags', () => {
    assert.throws(() => parse('--http-restricted-api=trace:a=1', '--http-restricted-api=trace,logging:b=2'), /restricted api 'trace' can not be specified in multiple config groups/);
  });
});

describe('a server with restricted groups', () => {
  let s: GrpcTestServer;
  const admin = { 'admin-key': 's3cret' };
  const granted = () => {
    const md = new grpc.Metadata();
    md.set('triton-grpc-protocol-admin-key', 's3cret');
    return md;
  };
  before(async () => {
    s = await startGrpcTestServer([`--model-repository=${repositoryOf('simple')}`,
      '--http-restricted-api=logging,model-repository:Admin-Key=s3cret', '--grpc-restricted-protocol=logging,inference:admin-key=s3cret']);
  });
  after(() => s.close());

  test('answers 403 with Triton\'s message to an HTTP request without the header, or with another value', async () => {
    for (const headers of [{}, { 'admin-key': 'wrong' }, { 'admin-key': 'S3CRET' }] as Record<string, string>[]) {
      const res = await request(`${s.url}/v2/logging`, { headers });
      assert.equal(res.status, 403);
      assert.deepEqual(jsonOf(res), { error: "This API is restricted, expecting header 'Admin-Key'" });
    }
    const index = await request(`${s.url}/v2/repository/index`, { method: 'POST', body: '' });
    assert.equal(index.status, 403);
    assert.equal((await request(`${s.url}/v2/logging`, { method: 'HEAD' })).status, 403);
  });

  test('serves a restricted HTTP API with the header (its name in any case), and open groups without it', async () => {
    assert.equal((await request(`${s.url}/v2/logging`, { headers: { 'ADMIN-KEY': 's3cret' } })).status, 200);
    assert.equal((await request(`${s.url}/v2/repository/index`, { method: 'POST', body: '', headers: admin })).status, 200);
    assert.equal((await request(`${s.url}/v2/health/ready`)).status, 200);
    const infer = await request(`${s.url}/v2/models/simple/infer`, { body: JSON.stringify(simpleRequest()), headers: { 'content-type': 'application/json' } });
    assert.equal(infer.status, 200);
  });

  test('answers PERMISSION_DENIED to gRPC calls without the metadata, unary (direct route included) and streamed', async () => {
    const message = "This protocol is restricted, expecting header 'triton-grpc-protocol-admin-key'";
    await assert.rejects(s.grpc.call('LogSettings', { settings: {} }), { code: PERMISSION_DENIED, details: message });
    await assert.rejects(s.grpc.infer('simple', simpleInputs()), { code: PERMISSION_DENIED, details: message });
    const bad = new grpc.Metadata();
    bad.set('triton-grpc-protocol-admin-key', 'nope');
    await assert.rejects(s.grpc.modelInfer({ model_name: 'simple', inputs: [] } as never, { metadata: bad }), { code: PERMISSION_DENIED });
    const stream = s.grpc.stream();
    stream.send('simple', simpleInputs());
    await assert.rejects(stream.next(), { code: PERMISSION_DENIED, details: message });
  });

  test('serves restricted gRPC calls with the metadata, and open ones without', async () => {
    const settings = await s.grpc.call<{ settings: Record<string, unknown> }>('LogSettings', { settings: {} }, granted());
    assert.ok('log_verbose_level' in settings.settings);
    const direct = s.server.grpc!.modelInferDirect?.calls ?? 0;
    const result = await s.grpc.modelInfer({ model_name: 'simple', inputs: simpleInputs().map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape, contents: { int_contents: [...(t.data as Int32Array)] } })) } as never, { metadata: granted() });
    assert.equal(result.outputs.length, 2);
    if (s.server.grpc!.modelInferDirect) assert.equal(s.server.grpc!.modelInferDirect.calls, direct + 1);
    const stream = s.grpc.stream(granted());
    stream.send('simple', simpleInputs());
    assert.equal((await stream.next()).error, null);
    await stream.end();
    assert.equal(await s.grpc.serverLive(), true);
    assert.equal(await s.grpc.healthCheck(), 'SERVING');
  });

  test('refuses a settings body that is not declared application/json with 415, and changes nothing', async () => {
    const before = jsonOf(await request(`${s.url}/v2/logging`, { headers: admin })).log_verbose_level;
    const body = JSON.stringify({ log_verbose_level: before + 3 });
    // No type with an Origin: what a browser's fetch of an untyped Blob sends cross-origin.
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', undefined]) {
      const res = await request(`${s.url}/v2/logging`, { body, headers: { ...admin, origin: 'http://evil.example', ...(type ? { 'content-type': type } : {}) } });
      assert.equal(res.status, 415, `Content-Type ${type}`);
      assert.match(jsonOf(res).error, /^POST \/v2\/logging takes a body of Content-Type application\/json, got '/);
    }
    assert.equal(jsonOf(await request(`${s.url}/v2/logging`, { headers: admin })).log_verbose_level, before);
    for (const path of ['/v2/trace/setting', '/v2/models/simple/trace/setting', '/v2/systemsharedmemory/region/r/register', '/v2/repository/models/simple/load', '/v2/repository/models/simple/unload']) {
      assert.equal((await request(`${s.url}${path}`, { body: '{}', headers: { ...admin, 'content-type': 'text/plain' } })).status, 415, path);
    }
    const json = await request(`${s.url}/v2/logging`, { body: JSON.stringify({ log_verbose_level: before }), headers: { ...admin, 'content-type': 'Application/JSON; charset=utf-8' } });
    assert.equal(json.status, 200);
    // Triton's Python client posts its JSON with no Content-Type and no Origin: taken.
    const untyped = await request(`${s.url}/v2/logging`, { body: JSON.stringify({ log_verbose_level: before + 1 }), headers: { ...admin } });
    assert.equal(untyped.status, 200);
    assert.equal(jsonOf(await request(`${s.url}/v2/logging`, { headers: admin })).log_verbose_level, before + 1);
    await request(`${s.url}/v2/logging`, { body: JSON.stringify({ log_verbose_level: before }), headers: { ...admin, 'content-type': 'application/json' } });
  });
});
