/**
 * The allowed-import table of docs/architecture.md, enforced: every source file's imports are
 * read, each is mapped to the folder it names, and the test fails on an import the table does not
 * allow, on an import into another folder that goes past its index.ts, or on a folder-level cycle.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from './helpers/server.ts';

const SRC = path.join(ROOT, 'src');

/** Files directly under src/ that any folder may import: they import no folder themselves. */
const LEAVES = new Set(['errors.ts', 'dtypes.ts', 'bytes-elements.ts', 'javascript-model.ts']);

/** Folder → the folders it may import (leaves are always allowed). Keep in step with docs/architecture.md. */
export const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  protocol: [],
  cli: [],
  'model-config': [],
  shm: [],
  workers: ['shm'],
  instance: ['workers', 'shm', 'model-config'],
  inference: ['model-config', 'shm'],
  observability: ['inference', 'cli'],
  scheduler: ['inference', 'instance', 'observability', 'model-config', 'shm'],
  repository: ['model-config', 'scheduler', 'instance', 'observability', 'inference'],
  api: ['repository', 'inference', 'observability', 'shm', 'protocol', 'cli', 'model-config'],
  server: ['protocol', 'cli', 'model-config', 'shm', 'workers', 'instance', 'inference', 'observability', 'scheduler', 'repository', 'api'],
  client: ['protocol'],
  tune: ['model-config'],
  main: ['cli', 'server'],
  index: ['cli', 'server'],
};

interface Edge { readonly file: string; readonly line: number; readonly from: string; readonly to: string; readonly target: string }

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? sourceFiles(full) : name.endsWith('.ts') ? [full] : [];
  });
}

/** 'api' for src/api/http/x.ts, 'leaf' for src/errors.ts, 'main' for src/main.ts, 'index' for src/index.ts. */
function folderOf(file: string): string {
  const rel = path.relative(SRC, file).split(path.sep);
  if (rel.length > 1) return rel[0];
  if (LEAVES.has(rel[0])) return 'leaf';
  return rel[0].replace(/\.ts$/, '');
}

/** Relative module specifiers of static imports, re-exports, dynamic imports and worker URLs. */
function importsOf(file: string): Edge[] {
  const text = readFileSync(file, 'utf8');
  const edges: Edge[] = [];
  const pattern = /(?:from\s+|import\(\s*|new URL\(\s*)['`](\.\.?\/[^'`$]*)/g;
  for (const match of text.matchAll(pattern)) {
    const target = path.resolve(path.dirname(file), match[1]);
    // Data files (.proto schemas, package.json) are read, not imported.
    if (!target.startsWith(SRC + path.sep) || /\.(proto|json)$/.test(target)) continue;
    const line = text.slice(0, match.index).split('\n').length;
    edges.push({ file: path.relative(ROOT, file), line, from: folderOf(file), to: folderOf(target.endsWith('.ts') ? target : `${target}.ts`), target });
  }
  return edges;
}

const edges = sourceFiles(SRC).flatMap(importsOf);

describe('the allowed-import table', () => {
  it('finds the imports it checks', () => {
    assert.ok(edges.length > 100, `only ${edges.length} imports found`);
    assert.ok(edges.some((e) => e.from === 'server' && e.to === 'api'));
  });

  it('names every folder of src/ in the table', () => {
    const folders = new Set(sourceFiles(SRC).map(folderOf).filter((f) => f !== 'leaf'));
    assert.deepEqual([...folders].filter((f) => !(f in ALLOWED)), []);
  });

  it('allows only the imports the table lists', () => {
    const bad = edges.filter((e) => e.from !== e.to && e.to !== 'leaf' && !(e.from !== 'leaf' && ALLOWED[e.from]?.includes(e.to)));
    assert.deepEqual(bad.map((e) => `${e.file}:${e.line} (${e.from}) imports ${path.relative(ROOT, e.target)} (${e.to})`), []);
  });

  it('lets leaves import nothing but other leaves', () => {
    const bad = edges.filter((e) => e.from === 'leaf' && e.to !== 'leaf');
    assert.deepEqual(bad.map((e) => `${e.file}:${e.line}`), []);
  });

  it('reaches another folder only through its index.ts', () => {
    const bad = edges.filter((e) => e.from !== e.to && e.to !== 'leaf' && !/^(main)$/.test(e.to)
      && path.relative(path.join(SRC, e.to), e.target).split(path.sep).join('/') !== 'index.ts'
      // The worker's entry file is started by URL (a thread), never imported.
      && !/workers[\\/]worker-entry$/.test(e.target));
    assert.deepEqual(bad.map((e) => `${e.file}:${e.line} imports ${path.relative(ROOT, e.target)}`), []);
  });

  it('has no cycle between folders', () => {
    const graph = new Map<string, Set<string>>();
    for (const e of edges) if (e.from !== e.to) (graph.get(e.from) ?? graph.set(e.from, new Set()).get(e.from)!).add(e.to);
    const cycles: string[] = [];
    const visit = (node: string, trail: string[]): void => {
      if (trail.includes(node)) {
        cycles.push([...trail.slice(trail.indexOf(node)), node].join(' -> '));
        return;
      }
      for (const next of graph.get(node) ?? []) visit(next, [...trail, node]);
    };
    for (const node of graph.keys()) visit(node, []);
    assert.deepEqual(cycles, []);
  });

  it('keeps the table itself free of cycles', () => {
    const reach = (from: string, seen = new Set<string>()): Set<string> => {
      for (const to of ALLOWED[from] ?? []) if (!seen.has(to)) { seen.add(to); reach(to, seen); }
      return seen;
    };
    assert.deepEqual(Object.keys(ALLOWED).filter((f) => reach(f).has(f)), []);
  });
});
