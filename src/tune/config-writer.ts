/**
 * A candidate's config.pbtxt: the model's own config with the fields the tuner sets
 * (max_batch_size, instance_group, dynamic_batching, and the onnxruntime thread parameters)
 * taken out and written anew, every other field kept as the user wrote it.
 *
 * Hand-written rather than parsed and re-serialized: the project's pbtxt parser yields values,
 * not text, and writing the config back from values would drop the user's comments and layout.
 * The scanner below only needs to find where each top-level field starts and ends (strings,
 * comments and nesting respected).
 */
import type { Candidate } from './space.ts';

const TUNED_FIELDS = new Set(['max_batch_size', 'instance_group', 'dynamic_batching']);
const THREAD_KEYS = /"(intra_op_thread_count|inter_op_thread_count)"/;

interface Field { readonly name: string; readonly start: number; readonly end: number }

/** The top-level fields of pbtxt text, each with the span of its name and value. */
export function topLevelFields(text: string): Field[] {
  const fields: Field[] = [];
  let i = 0;
  const skipSpace = () => {
    for (;;) {
      while (i < text.length && /\s|,|;/.test(text[i])) i++;
      if (text[i] !== '#') return;
      while (i < text.length && text[i] !== '\n') i++;
    }
  };
  // Skips one value: a string, a nested block, a list, or a bare token.
  const skipValue = (): void => {
    skipSpace();
    const c = text[i];
    if (c === '"' || c === "'") {
      i++;
      while (i < text.length && text[i] !== c) i += text[i] === '\\' ? 2 : 1;
      i++;
      skipSpace();
      if (text[i] === '"' || text[i] === "'") skipValue(); // adjacent strings concatenate
      return;
    }
    if (c === '{' || c === '<' || c === '[') {
      const close = c === '{' ? '}' : c === '<' ? '>' : ']';
      i++;
      for (;;) {
        skipSpace();
        if (i >= text.length) throw new SyntaxError('config.pbtxt: unbalanced brackets');
        if (text[i] === close) { i++; return; }
        if (close === ']') { skipValue(); continue; }
        // A field inside a block: its name, an optional ':', its value.
        while (i < text.length && /[\w.]/.test(text[i])) i++;
        skipSpace();
        if (text[i] === ':') i++;
        skipValue();
      }
    }
    while (i < text.length && /[\w.+\-]/.test(text[i])) i++;
  };
  for (;;) {
    skipSpace();
    if (i >= text.length) return fields;
    const start = i;
    while (i < text.length && /\w/.test(text[i])) i++;
    if (i === start) throw new SyntaxError(`config.pbtxt: unexpected '${text[i]}' at offset ${i}`);
    const name = text.slice(start, i);
    skipSpace();
    if (text[i] === ':') i++;
    skipValue();
    fields.push({ name, start, end: i });
  }
}

/** The config.pbtxt text of a candidate, from the model's own config text. */
export function candidateConfig(original: string, c: Candidate): string {
  const fields = topLevelFields(original);
  const drop = fields.filter((f) => {
    if (TUNED_FIELDS.has(f.name)) return true;
    if (f.name !== 'parameters') return false;
    const body = original.slice(f.start, f.end);
    if (!THREAD_KEYS.test(body)) return false;
    if (body.trimEnd().endsWith(']')) throw new RangeError('config.pbtxt: the tuner rewrites the onnxruntime thread parameters; write them as separate `parameters { ... }` entries, not a list');
    return true;
  });
  let kept = '';
  let at = 0;
  for (const f of drop) {
    kept += original.slice(at, f.start);
    at = f.end;
  }
  kept += original.slice(at);
  kept = kept.replace(/\n[ \t]*(?=\n)/g, '\n').replace(/\n{3,}/g, '\n\n').trimEnd();
  const lines = [kept, '', '# Written by `nereid tune`.', `max_batch_size: ${c.maxBatchSize}`];
  const gpus = c.device.kind === 'KIND_GPU' ? ` gpus: [ ${c.device.gpus.join(', ')} ]` : '';
  lines.push(`instance_group [ { count: ${c.instances} kind: ${c.device.kind}${gpus} } ]`);
  if (c.batching !== 'off') {
    const parts = [
      ...(c.preferred ? [`preferred_batch_size: [ ${c.maxBatchSize} ]`] : []),
      ...(c.batching > 0 ? [`max_queue_delay_microseconds: ${c.batching}`] : []),
    ];
    lines.push(parts.length === 0 ? 'dynamic_batching { }' : `dynamic_batching { ${parts.join(' ')} }`);
  }
  lines.push(`parameters { key: "intra_op_thread_count" value { string_value: "${c.intraOpThreads}" } }`);
  lines.push(`parameters { key: "inter_op_thread_count" value { string_value: "${c.interOpThreads}" } }`);
  return `${lines.join('\n')}\n`;
}
