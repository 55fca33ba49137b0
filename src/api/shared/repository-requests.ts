/**
 * The parameters of a model load or unload request, read the same way for HTTP (JSON values;
 * file contents in base64) and gRPC (ModelRepositoryParameter; file contents as bytes), with
 * Triton's rules: `config` is a string, `file:<path>` carries a file's contents, and any other
 * name is refused ("Unrecognized load parameter"); unload takes `unload_dependents`, a boolean.
 */
import { serverError } from '../../errors.ts';
import type { LoadParameters } from '../../repository/index.ts';

export type RepositoryParameter =
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'bytes'; readonly value: Uint8Array };

const kFilePrefix = 'file:';

/** The load request's config override and files. `files` says how string contents are encoded. */
export function loadParameters(parameters: ReadonlyMap<string, RepositoryParameter>, files: 'base64' | 'bytes'): LoadParameters {
  let config: string | undefined;
  const contents = new Map<string, Uint8Array>();
  for (const [name, p] of parameters) {
    if (name === 'config') {
      if (p.kind !== 'string') throw serverError('BAD_REQUEST', "load parameter 'config' must be a string holding the model config as JSON");
      config = p.value;
    } else if (name.startsWith(kFilePrefix)) {
      const path = name.slice(kFilePrefix.length);
      if (p.kind === 'bytes') contents.set(path, p.value);
      else if (p.kind === 'string' && files === 'base64') contents.set(path, base64(p.value, name));
      else throw serverError('BAD_REQUEST', `load parameter '${shorten(name)}' must hold the file's contents (${files === 'base64' ? 'base64 text' : 'bytes'})`);
    } else {
      throw serverError('BAD_REQUEST', `Unrecognized load parameter '${shorten(name)}' with type '${p.kind}'`);
    }
  }
  return { config, files: contents };
}

/** Whether an unload request asks to unload the models that depend on this one too. */
export function unloadDependents(parameters: ReadonlyMap<string, RepositoryParameter>): boolean {
  const p = parameters.get('unload_dependents');
  if (p === undefined) return false;
  if (p.kind !== 'bool') throw serverError('BAD_REQUEST', "unload parameter 'unload_dependents' must be a boolean");
  return p.value;
}

/** Strict base64: Buffer.from would skip bad characters silently and change the file. */
function base64(text: string, name: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw serverError('BAD_REQUEST', `load parameter '${shorten(name)}' is not base64`);
  return new Uint8Array(Buffer.from(text, 'base64'));
}

function shorten(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}...` : text;
}
