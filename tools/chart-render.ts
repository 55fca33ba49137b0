/**
 * Renders the Helm chart in deploy/helm/nereid without Helm, for the tests (Helm is not
 * installable here: it is neither an npm package nor a Debian one). Hand-written because no
 * npm package renders Go templates with Helm's functions; it covers exactly the subset the
 * chart's templates keep to, and refuses anything else, so a template that strays from the
 * subset fails the tests instead of rendering wrongly:
 *
 * - `{{ pipeline }}` with `{{-` / `-}}` trimming the whitespace before / after, as Go's
 *   text/template does; `{{/* comments *\/}}`;
 * - `{{ if P }}`, `{{ else if P }}`, `{{ else }}`, `{{ range P }}` (over a list or a map's
 *   values; `.` is the element inside), `{{ with P }}`, `{{ end }}`;
 * - operands: `.`, `.Values.a.b`, `.Release.Name`, `.Release.Namespace`, `.Chart.Name`,
 *   `.Chart.Version`, `.Chart.AppVersion`, `$` and `$.Values...`, "strings", numbers,
 *   `true`/`false`;
 * - functions (Helm's and sprig's meaning): `toYaml`, `indent N`, `nindent N`, `quote`,
 *   `default D`, `add A B ...`, `not`, `and`, `or`, `eq`, `required MSG`; in a pipeline the
 *   value on the left is the function's last argument, as in Go templates.
 *
 * Truthiness is Go's: false, 0, "", nil, and empty lists and maps are false.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

export interface ChartContext {
  readonly Values: Record<string, unknown>;
  readonly Release: { readonly Name: string; readonly Namespace: string };
  readonly Chart: { readonly Name: string; readonly Version: string; readonly AppVersion: string };
}

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'output'; pipeline: string }
  | { kind: 'if'; branches: { cond: string | null; body: Node[] }[] }
  | { kind: 'range'; pipeline: string; body: Node[] }
  | { kind: 'with'; pipeline: string; body: Node[] };

/** Splits a template into text and actions, applying `{{-` and `-}}` trimming. */
function tokenize(template: string): { kind: 'text' | 'action'; value: string }[] {
  const tokens: { kind: 'text' | 'action'; value: string }[] = [];
  let i = 0;
  let trimNext = false;
  while (i < template.length) {
    const open = template.indexOf('{{', i);
    let text = open === -1 ? template.slice(i) : template.slice(i, open);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (open === -1) {
      tokens.push({ kind: 'text', value: text });
      break;
    }
    const close = template.indexOf('}}', open);
    if (close === -1) throw new Error(`unclosed action at offset ${open}`);
    let action = template.slice(open + 2, close);
    if (action.startsWith('-')) {
      text = text.replace(/\s+$/, '');
      action = action.slice(1);
    }
    trimNext = action.endsWith('-');
    if (trimNext) action = action.slice(0, -1);
    tokens.push({ kind: 'text', value: text });
    action = action.trim();
    if (!(action.startsWith('/*') && action.endsWith('*/'))) tokens.push({ kind: 'action', value: action });
    i = close + 2;
  }
  return tokens.filter((t) => t.kind === 'action' || t.value !== '');
}

/** Builds the tree of nodes; `stop` lists the keywords that end the current block. */
function parse(tokens: { kind: 'text' | 'action'; value: string }[]): Node[] {
  let pos = 0;
  const block = (): { nodes: Node[]; end: string } => {
    const nodes: Node[] = [];
    while (pos < tokens.length) {
      const t = tokens[pos++];
      if (t.kind === 'text') {
        nodes.push({ kind: 'text', text: t.value });
        continue;
      }
      const [word] = t.value.split(/\s+/, 1);
      const rest = t.value.slice(word.length).trim();
      if (word === 'end' || word === 'else') return { nodes, end: t.value };
      if (word === 'if') {
        const branches: { cond: string | null; body: Node[] }[] = [];
        let cond: string | null = rest;
        for (;;) {
          const { nodes: body, end } = block();
          branches.push({ cond, body });
          if (end === 'end') break;
          if (end === 'else') cond = null;
          else if (end.startsWith('else if ')) cond = end.slice('else if '.length).trim();
          else throw new Error(`unexpected {{ ${end} }} in an if`);
          if (cond === null) {
            const last = block();
            if (last.end !== 'end') throw new Error('{{ else }} must be the last branch of an if');
            branches.push({ cond: null, body: last.nodes });
            break;
          }
        }
        nodes.push({ kind: 'if', branches });
      } else if (word === 'range' || word === 'with') {
        const { nodes: body, end } = block();
        if (end !== 'end') throw new Error(`{{ ${word} }} takes no {{ else }} here`);
        nodes.push({ kind: word, pipeline: rest, body });
      } else if (['define', 'template', 'include', 'block', 'tpl'].includes(word) || t.value.includes(':=')) {
        throw new Error(`'${t.value}' is outside the template subset tools/chart-render.ts renders`);
      } else {
        nodes.push({ kind: 'output', pipeline: t.value });
      }
    }
    return { nodes, end: '' };
  };
  const { nodes, end } = block();
  if (end !== '') throw new Error(`unexpected {{ ${end} }}`);
  return nodes;
}

/** Splits `a "b c" (d)` into words, keeping quoted strings whole. */
function words(s: string): string[] {
  const out: string[] = [];
  const re = /"(?:[^"\\]|\\.)*"|[^\s]+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) out.push(m[0]);
  return out;
}

function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

function toYaml(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  return YAML.stringify(v, { sortMapEntries: true, lineWidth: 0 }).replace(/\n$/, '');
}

const indent = (n: number, s: string) => s.split('\n').map((l) => ' '.repeat(n) + l).join('\n');

const FUNCTIONS: Record<string, (...args: unknown[]) => unknown> = {
  toYaml: (v) => toYaml(v),
  indent: (n, s) => indent(Number(n), String(s)),
  nindent: (n, s) => `\n${indent(Number(n), String(s))}`,
  quote: (v) => JSON.stringify(v === null || v === undefined ? '' : String(v)),
  default: (d, v) => (truthy(v) ? v : d),
  add: (...xs) => xs.reduce((a: number, b) => a + Number(b), 0),
  not: (v) => !truthy(v),
  and: (...xs) => xs.every(truthy),
  or: (...xs) => xs.some(truthy),
  eq: (a, b) => a === b,
  required: (msg, v) => {
    if (v === null || v === undefined || v === '') throw new Error(String(msg));
    return v;
  },
};

function operand(word: string, dot: unknown, root: ChartContext): unknown {
  if (word.startsWith('"')) return JSON.parse(word);
  if (/^-?\d+(\.\d+)?$/.test(word)) return Number(word);
  if (word === 'true' || word === 'false') return word === 'true';
  if (word === '.') return dot;
  let base: unknown;
  let pathText: string;
  if (word === '$') return root;
  if (word.startsWith('$.')) {
    base = root;
    pathText = word.slice(2);
  } else if (word.startsWith('.')) {
    base = dot;
    pathText = word.slice(1);
  } else {
    throw new Error(`unknown word '${word}'`);
  }
  let v: unknown = base;
  for (const key of pathText.split('.')) {
    if (v === null || v === undefined || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

function evaluate(pipeline: string, dot: unknown, root: ChartContext): unknown {
  let value: unknown;
  let first = true;
  for (const command of pipeline.split(/\s+\|\s+/)) {
    const ws = words(command);
    if (ws.length === 0) throw new Error(`empty command in '${pipeline}'`);
    const fn = Object.hasOwn(FUNCTIONS, ws[0]) ? FUNCTIONS[ws[0]] : undefined;
    if (!fn && /^[A-Za-z]\w*$/.test(ws[0]) && ws[0] !== 'true' && ws[0] !== 'false') throw new Error(`'${ws[0]}' is not a function of the subset`);
    const args = (fn ? ws.slice(1) : ws).map((w) => operand(w, dot, root));
    if (!first) args.push(value);
    if (fn) value = fn(...args);
    else if (args.length === 1) value = args[0];
    else throw new Error(`'${command}' is not a function of the subset`);
    first = false;
  }
  return value;
}

function print(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') throw new Error(`an object printed without toYaml: ${JSON.stringify(v)}`);
  return String(v);
}

function execute(nodes: Node[], dot: unknown, root: ChartContext): string {
  let out = '';
  for (const node of nodes) {
    if (node.kind === 'text') out += node.text;
    else if (node.kind === 'output') out += print(evaluate(node.pipeline, dot, root));
    else if (node.kind === 'if') {
      const branch = node.branches.find((b) => b.cond === null || truthy(evaluate(b.cond, dot, root)));
      if (branch) out += execute(branch.body, dot, root);
    } else if (node.kind === 'with') {
      const v = evaluate(node.pipeline, dot, root);
      if (truthy(v)) out += execute(node.body, v, root);
    } else {
      const v = evaluate(node.pipeline, dot, root);
      const items = Array.isArray(v) ? v : v && typeof v === 'object' ? Object.values(v) : [];
      for (const item of items) out += execute(node.body, item, root);
    }
  }
  return out;
}

/** Renders one template's text. */
export function renderTemplate(template: string, context: ChartContext): string {
  return execute(parse(tokenize(template)), context, context);
}

/** Deep merge of values: `over`'s maps merge into `base`'s, anything else replaces. */
export function mergeValues(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
      ? mergeValues(b as Record<string, unknown>, v as Record<string, unknown>)
      : v;
  }
  return out;
}

/**
 * Renders every template of the chart in `chartDir` with its values.yaml under `overrides`,
 * as `helm template` would, and returns the Kubernetes objects of all of them (empty
 * documents dropped). Files starting with `_` and files that are not YAML are skipped.
 */
export function renderChart(chartDir: string, overrides: Record<string, unknown> = {}, release = { Name: 'nereid', Namespace: 'default' }): Record<string, unknown>[] {
  const chart = YAML.parse(readFileSync(path.join(chartDir, 'Chart.yaml'), 'utf8')) as { name: string; version: string; appVersion: string };
  const values = mergeValues(YAML.parse(readFileSync(path.join(chartDir, 'values.yaml'), 'utf8')) as Record<string, unknown>, overrides);
  const context: ChartContext = { Values: values, Release: release, Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion } };
  const objects: Record<string, unknown>[] = [];
  const dir = path.join(chartDir, 'templates');
  for (const file of readdirSync(dir).sort()) {
    if (file.startsWith('_') || !/\.ya?ml$/.test(file)) continue;
    let text: string;
    try {
      text = renderTemplate(readFileSync(path.join(dir, file), 'utf8'), context);
    } catch (err) {
      throw new Error(`${file}: ${(err as Error).message}`);
    }
    for (const doc of YAML.parseAllDocuments(text)) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0].message}\n${text}`);
      const obj = doc.toJS() as Record<string, unknown> | null;
      if (obj !== null) objects.push(obj);
    }
  }
  return objects;
}
