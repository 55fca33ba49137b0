/**
 * Runs the test files in shards: a few processes, each importing a group of test files, instead
 * of one process per file. A test process pays about half a second of CPU before its first test
 * (tsx, the server's module graph, onnxruntime, the GPU probe); with 70-odd files on two cores
 * that was a third of the suite's time. Measured on test/api/http (14 files): 14 s and 23 s of
 * CPU as one shard, against 27 s and 41 s of CPU as one process per file.
 *
 * Every `*.test.ts` under test/ belongs to exactly one shard: the first whose prefixes match its
 * path, or `rest`, which takes whatever no other shard names, so a new test file runs without
 * being listed. Files of a shard run one after the other, in one process; shards run side by side
 * (`--test-concurrency` in package.json). A test file must therefore leave nothing behind that
 * another file would notice: servers closed, globals restored (they all did before sharding).
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TEST_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Shard name → path prefixes under test/ (balanced by measured time; `rest` takes the others). */
export const SHARDS: Readonly<Record<string, readonly string[]>> = {
  'api-http': ['api/http/'],
  'api-grpc': ['api/grpc/', 'api/conformance/', 'client/'],
  scheduling: ['scheduler/', 'instance/'],
  'end-to-end': ['api/metrics/', 'api/request-cancel', 'main-cli', 'bench/', 'package/'],
  rest: [],
};

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === 'fixtures' || name === 'shards' ? [] : testFiles(full);
    return name.endsWith('.test.ts') ? [full] : [];
  });
}

/** Every test file under test/, by shard name (paths relative to test/, sorted). */
export function partition(): Map<string, string[]> {
  const parts = new Map(Object.keys(SHARDS).map((name) => [name, [] as string[]]));
  for (const file of testFiles(TEST_DIR).map((f) => path.relative(TEST_DIR, f).split(path.sep).join('/')).sort()) {
    const shard = Object.keys(SHARDS).find((name) => SHARDS[name].some((prefix) => file.startsWith(prefix))) ?? 'rest';
    parts.get(shard)!.push(file);
  }
  for (const [name, prefixes] of Object.entries(SHARDS)) {
    for (const prefix of prefixes) {
      if (!parts.get(name)!.some((f) => f.startsWith(prefix))) throw new Error(`test shard '${name}': no test file under '${prefix}'`);
    }
  }
  return parts;
}

/** Imports the test files of shard `name`, in order; node:test runs what they register. */
export async function runShard(name: string): Promise<void> {
  const files = partition().get(name);
  if (!files) throw new Error(`no test shard '${name}'`);
  for (const file of files) await import(path.join(TEST_DIR, file));
}
