/**
 * Builds throw-away model repositories from the fixture and example models, each with a config
 * written by the test, so one model file can be tried under many configs.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXAMPLE_MODELS, EXAMPLES, FIXTURES } from './server.ts';

export interface RepoModel {
  /** A fixture (test/fixtures/models) or example (model_repository, examples/model_repository) model to copy. */
  readonly from: string;
  /** The config.pbtxt text; `name` is added when missing. */
  readonly config: string;
}

/** Writes a repository with the given models; returns its path and a remover. */
export function makeRepository(models: Record<string, RepoModel>): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nereid-repo-'));
  for (const [name, model] of Object.entries(models)) {
    const source = [FIXTURES, EXAMPLES, EXAMPLE_MODELS].map((d) => path.join(d, model.from)).find((d) => {
      try {
        cpSync(path.join(d, '1'), path.join(dir, name, '1'), { recursive: true });
        return true;
      } catch {
        return false;
      }
    });
    if (!source) throw new Error(`no fixture or example model '${model.from}'`);
    const config = /^\s*name:/m.test(model.config) ? model.config : `name: "${name}"\n${model.config}`;
    writeFileSync(path.join(dir, name, 'config.pbtxt'), config);
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** config.pbtxt for the `slow` fixture (FP32 INPUT0 [1] → OUTPUT0, ~0.4 s a run) plus `extra`. */
export function slowConfig(extra: string, maxBatchSize = 8): string {
  return `platform: "onnxruntime_onnx"
max_batch_size: ${maxBatchSize}
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ 1 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 1 ] } ]
${extra}
`;
}
