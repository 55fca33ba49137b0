/**
 * gRPC over TLS and mutual TLS, on a certificate authority and certificates this test makes at
 * run time with the openssl command (nothing is downloaded and no key is kept in the repository).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { GrpcClient } from '../../../src/client/index.ts';
import { parseCliOptions } from '../../../src/cli/cli-options.ts';
import { startServer } from '../../../src/server/server-lifecycle.ts';
import { repositoryOf } from '../../helpers/server.ts';
import { simpleExpected, simpleInputs, startGrpcTestServer, type GrpcTestServer } from '../../helpers/grpc.ts';

interface Pki {
  readonly dir: string;
  readonly file: (name: string) => string;
}

/** A CA, a server certificate for localhost/127.0.0.1 and a client certificate, all signed by the CA. */
function makePki(): Pki {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nereid-tls-'));
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=nereid test CA');
  writeFileSync(file('server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  writeFileSync(file('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const who of ['server', 'client']) {
    openssl('req', ...ec, '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=nereid test ${who}`);
    openssl('x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${who}.crt`, '-days', '2', '-extfile', `${who}.ext`);
  }
  return { dir, file };
}

describe('gRPC over TLS', () => {
  let pki: Pki;
  let ts: GrpcTestServer;
  before(async () => {
    pki = makePki();
    const ca = readFileSync(pki.file('ca.crt'));
    ts = await startGrpcTestServer(
      [`--model-repository=${repositoryOf('simple')}`, '--grpc-use-ssl=true', `--grpc-server-cert=${pki.file('server.crt')}`, `--grpc-server-key=${pki.file('server.key')}`],
      { credentials: grpc.credentials.createSsl(ca) },
    );
  });
  after(async () => {
    await ts.close();
    rmSync(pki.dir, { recursive: true, force: true });
  });

  test('serves inference to a client that trusts the CA, unary calls on the direct route', async () => {
    const direct = ts.server.grpc!.modelInferDirect!.calls;
    const result = await ts.grpc.infer('simple', simpleInputs());
    assert.deepEqual(Array.from(result.outputs[0].data as Int32Array), simpleExpected().sum);
    assert.equal(ts.server.grpc!.modelInferDirect!.calls, direct + 1);
    assert.equal(await ts.grpc.healthCheck(), 'SERVING');
  });

  test('refuses a plaintext client', async () => {
    const plain = new GrpcClient(ts.grpcAddress);
    try {
      await assert.rejects(plain.serverLive(), (err: grpc.ServiceError) => err.code === grpc.status.UNAVAILABLE);
    } finally {
      plain.close();
    }
  });
});

describe('gRPC over mutual TLS', () => {
  let pki: Pki;
  let ts: GrpcTestServer;
  before(async () => {
    pki = makePki();
    const creds = grpc.credentials.createSsl(readFileSync(pki.file('ca.crt')), readFileSync(pki.file('client.key')), readFileSync(pki.file('client.crt')));
    ts = await startGrpcTestServer(
      [`--model-repository=${repositoryOf('simple')}`, '--grpc-use-ssl-mutual=true', `--grpc-server-cert=${pki.file('server.crt')}`, `--grpc-server-key=${pki.file('server.key')}`, `--grpc-root-cert=${pki.file('ca.crt')}`],
      { credentials: creds },
    );
  });
  after(async () => {
    await ts.close();
    rmSync(pki.dir, { recursive: true, force: true });
  });

  test('serves a client that presents a certificate signed by the root', async () => {
    const stream = ts.grpc.stream();
    stream.send('simple', simpleInputs(), { id: 'mtls' });
    const answer = await stream.next();
    assert.equal(answer.id, 'mtls');
    assert.deepEqual(Array.from(answer.result!.outputs[1].data as Int32Array), simpleExpected().difference);
    await stream.end();
  });

  test('refuses a client without a certificate', async () => {
    const anonymous = new GrpcClient(ts.grpcAddress, { credentials: grpc.credentials.createSsl(readFileSync(pki.file('ca.crt'))) });
    try {
      await assert.rejects(anonymous.serverLive(), (err: grpc.ServiceError) => err.code === grpc.status.UNAVAILABLE);
    } finally {
      anonymous.close();
    }
  });
});

describe('gRPC TLS start-up errors', () => {
  test('refuses to start when the certificate file cannot be read, naming the flag', async () => {
    const options = parseCliOptions([
      `--model-repository=${repositoryOf('simple')}`, '--http-port=0', '--grpc-port=0', '--grpc-address=127.0.0.1',
      '--grpc-use-ssl=true', '--grpc-server-cert=/nonexistent/server.crt', '--grpc-server-key=/nonexistent/server.key',
    ]);
    await assert.rejects(startServer(options, { logLevel: 'silent' }), /--grpc-server-cert: cannot read '\/nonexistent\/server.crt'/);
  });
});
