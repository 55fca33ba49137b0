/**
 * The `file:<path>` contents of a load request (Triton's model file override), written into a
 * private temporary directory that then stands in for the model's directory. Every path is
 * checked before anything is written: relative, no `.`/`..` or empty segment, no backslash or
 * NUL, each segment within NAME_MAX. Files are created with O_EXCL in directories this code just
 * made inside a fresh mkdtemp directory (mode 0700), so no link can redirect a write outside it.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** The longest file name segment Linux takes (NAME_MAX, in bytes). */
const kNameMaxBytes = 255;
/** A load request's files, by their path under the model directory ("1/model.onnx"). */
export type OverrideFiles = ReadonlyMap<string, Uint8Array>;

/** Why `relative` may not be written, or null when it may. */
export function overridePathProblem(relative: string): string | null {
  if (relative === '') return 'the file path is empty';
  if (relative.includes('\0')) return 'the file path holds a NUL character';
  if (relative.includes('\\')) return `the file path '${shown(relative)}' holds a backslash`;
  if (relative.startsWith('/') || path.isAbsolute(relative)) return `the file path '${shown(relative)}' is absolute`;
  for (const segment of relative.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') return `the file path '${shown(relative)}' has an empty, '.' or '..' segment`;
    if (Buffer.byteLength(segment) > kNameMaxBytes) return `a segment of the file path '${shown(relative)}' is longer than ${kNameMaxBytes} bytes`;
  }
  return null;
}

/**
 * Writes `files` into a new private temporary directory and returns its path. Throws an Error
 * naming the first refused path (nothing is written then).
 */
export async function writeOverrideFiles(files: OverrideFiles): Promise<string> {
  for (const relative of files.keys()) {
    const problem = overridePathProblem(relative);
    if (problem) throw new Error(problem);
  }
  const root = await mkdtemp(path.join(os.tmpdir(), 'nereid-override-'));
  try {
    for (const [relative, bytes] of files) {
      const full = path.resolve(root, relative);
      // Belt and braces after the segment check: the resolved path stays under the root.
      if (!full.startsWith(root + path.sep)) throw new Error(`the file path '${shown(relative)}' leaves the model directory`);
      await mkdir(path.dirname(full), { recursive: true, mode: 0o700 });
      await writeFile(full, bytes, { flag: 'wx', mode: 0o600 });
    }
  } catch (err) {
    await removeOverrideDir(root);
    throw err;
  }
  return root;
}

/** Removes a directory made by writeOverrideFiles. */
export async function removeOverrideDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** A client's path, cut short for a message. */
function shown(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}...` : text;
}
