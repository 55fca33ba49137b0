/**
 * The inference conformance table (cases.ts) over HTTP/REST, in JSON and in the binary tensor
 * extension, against one real server.
 */
import { after, before, describe } from 'node:test';
import { repositoryOf, startTestServer, type TestServer } from '../../helpers/server.ts';
import { MODELS } from './cases.ts';
import { httpDriver } from './drivers.ts';
import { runTable } from './run-table.ts';

describe('inference conformance over HTTP', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer([`--model-repository=${repositoryOf(...MODELS)}`]);
  });
  after(() => s?.close());

  runTable(httpDriver(() => s.url));
});
