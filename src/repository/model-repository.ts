/**
 * Reads model repositories on disk: `<repo>/<model>/config.pbtxt` and
 * `<repo>/<model>/<version>/<file>`. Knows files only; loading is model-lifecycle's job.
 */
import { readdir, stat } from 'node:fs/promises';
import type { Dirent } from 'node:fs';
import path from 'node:path';

/**
 * Whether a directory entry is a folder, following a symbolic link as Triton does (a repository
 * mounted from a Kubernetes ConfigMap, or assembled with `ln -s`, holds links to folders).
 */
async function isFolder(parent: string, e: Dirent): Promise<boolean> {
  if (e.isDirectory()) return true;
  if (!e.isSymbolicLink()) return false;
  try {
    return (await stat(path.join(parent, e.name))).isDirectory();
  } catch {
    return false; // a dangling link
  }
}

interface ModelDir {
  readonly name: string;
  readonly dir: string;
}

/**
 * Lists the models in every repository. A name found in two repositories is reported as an
 * error for that model (as Triton does), not loaded from either.
 */
export async function scanRepositories(repos: readonly string[]): Promise<{ models: ModelDir[]; duplicates: Map<string, string[]>; unreadable: string[] }> {
  const found = new Map<string, string[]>();
  const unreadable: string[] = [];
  for (const repo of repos) {
    let entries;
    try {
      entries = await readdir(repo, { withFileTypes: true });
    } catch (err) {
      unreadable.push(`failed to read model repository '${repo}': ${(err as Error).message}`);
      continue;
    }
    for (const e of entries) {
      if (e.name.startsWith('.') || !(await isFolder(repo, e))) continue;
      const dirs = found.get(e.name) ?? [];
      dirs.push(path.resolve(repo, e.name));
      found.set(e.name, dirs);
    }
  }
  const models: ModelDir[] = [];
  const duplicates = new Map<string, string[]>();
  for (const [name, dirs] of [...found].sort(([a], [b]) => a.localeCompare(b))) {
    if (dirs.length > 1) duplicates.set(name, dirs);
    else models.push({ name, dir: dirs[0] });
  }
  return { models, duplicates, unreadable };
}

/** The numeric version folders of a model, ascending. Other entries are ignored, as in Triton. */
export async function listVersions(modelDir: string): Promise<number[]> {
  const entries = await readdir(modelDir, { withFileTypes: true });
  const folders = [];
  for (const e of entries) if (/^[0-9]+$/.test(e.name) && await isFolder(modelDir, e)) folders.push(e);
  return folders
    .map((e) => Number(e.name))
    .filter((v) => Number.isSafeInteger(v) && v > 0)
    .sort((a, b) => a - b);
}

/**
 * Why version `version` of a model has no `filename`: the plain fact, or, when the folder holds
 * other .onnx files, which ones and the two ways out (rename, or default_model_filename).
 */
export async function missingModelFile(modelDir: string, version: number, filename: string): Promise<string> {
  let others: string[] = [];
  try {
    others = (await readdir(path.join(modelDir, String(version)))).filter((f) => f.endsWith('.onnx')).sort();
  } catch {
    // An unreadable folder has no file to suggest.
  }
  if (others.length === 0) return `version ${version} has no model file '${filename}'`;
  return `version ${version} has no model file '${filename}' but has ${others.map((f) => `'${f}'`).join(', ')}: rename it to '${filename}', or set default_model_filename: "${others[0]}" in config.pbtxt`;
}

export async function fileExists(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}
