import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { renderPlotsSvg, writePlots } from '../../bench/plot.ts';
import type { ResultRow } from '../../bench/rows.ts';

function row(system: ResultRow['system'], protocol: ResultRow['protocol'], fields: Partial<ResultRow>): ResultRow {
  const base: ResultRow = { system, protocol, model: 'simple', mode: 'concurrency', throughput: 0, p50Ms: 1, p90Ms: 2, p95Ms: 3, p99Ms: 4, requests: 100, errors: 0, stable: true };
  return { ...base, ...fields };
}

const rows: ResultRow[] = [
  ...[1, 4, 16].flatMap((c) => [
    row('nereid', 'http-binary', { concurrency: c, throughput: 1000 * c, p50Ms: c, p99Ms: 2 * c }),
    row('naive', 'http-binary', { concurrency: c, throughput: 900, p50Ms: c * 1.1, p99Ms: c * 3 }),
  ]),
  row('ceiling', 'in-process', { mode: 'batch', batch: 8, throughput: 20000, p50Ms: NaN, p90Ms: NaN, p95Ms: NaN, p99Ms: NaN }),
];

/** The data-series names of the polylines, in document order. */
const polylineSeries = (svg: string) => [...svg.matchAll(/<polyline data-series="([^"]*)"/g)].map((m) => m[1]);

test('renders one SVG document with both charts, a polyline per series and the series names in the legend', () => {
  const svg = renderPlotsSvg(rows, 'simple over HTTP');
  assert.match(svg, /^<\?xml[^>]*\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.ok(svg.trimEnd().endsWith('</svg>'));
  assert.equal(svg.match(/<svg\b/g)!.length, 1);
  assert.deepEqual(polylineSeries(svg), [
    'nereid http-binary', 'naive http-binary', 'ceiling in-process (batch 8)',
    'nereid http-binary p50', 'nereid http-binary p99', 'naive http-binary p50', 'naive http-binary p99',
  ]);
  for (const name of ['nereid http-binary', 'naive http-binary', 'ceiling in-process (batch 8)']) {
    assert.ok(svg.includes(`>${name}</text>`), `legend names ${name}`);
  }
  assert.ok(svg.includes('Throughput against concurrency') && svg.includes('Latency against throughput'));
  assert.doesNotMatch(svg, /NaN|undefined|Infinity/);
  assert.doesNotMatch(svg, /<script|href=|@import|url\(/, 'nothing external');
});

test('draws the points of a series in order of concurrency, on a log axis for a wide range', () => {
  const svg = renderPlotsSvg([...rows].reverse(), 'reversed');
  const line = /<polyline data-series="nereid http-binary" [^>]*points="([^"]*)"/.exec(svg)![1];
  const xs = line.split(' ').map((p) => Number(p.split(',')[0]));
  assert.equal(xs.length, 3);
  assert.ok(xs[0] < xs[1] && xs[1] < xs[2], `x increases: ${xs}`);
  assert.ok(Math.abs((xs[1] - xs[0]) - (xs[2] - xs[1])) < 0.5, 'concurrency 1, 4, 16 are evenly spaced on a log axis');
});

test('escapes the title and series names for XML', () => {
  const svg = renderPlotsSvg([row('nereid', 'grpc', { model: 'a<b', concurrency: 2, throughput: 10 }), row('naive', 'grpc', { model: 'c&d', concurrency: 2, throughput: 5 })], 'x <&> "y"');
  assert.ok(svg.includes('x &lt;&amp;&gt; &quot;y&quot;'));
  assert.ok(!svg.includes('x <&>'));
  assert.ok(svg.includes('a&lt;b nereid grpc') && svg.includes('c&amp;d naive grpc'), 'the models, which differ, prefix the series names');
  const text = svg.replace(/<[^>]*>/g, '');
  assert.doesNotMatch(text, /[<>]|&(?!amp;|lt;|gt;|quot;|apos;)/, 'no raw markup characters in text');
});

test('handles a single point and no rows at all', () => {
  const one = renderPlotsSvg([row('nereid', 'http-json', { concurrency: 4, throughput: 1234, p50Ms: 3.2, p99Ms: 7 })], 'one');
  assert.deepEqual(polylineSeries(one), ['nereid http-json', 'nereid http-json p50', 'nereid http-json p99']);
  assert.equal(one.match(/<circle cx/g)!.length, 3 + 3, 'three markers in the charts, three in the legends');
  assert.doesNotMatch(one, /NaN/);
  const none = renderPlotsSvg([], 'none');
  assert.deepEqual(polylineSeries(none), []);
  assert.equal(none.match(/no data/g)!.length, 2);
});

test('writePlots creates the folder and writes the document', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'nereid-plot-test-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'deep', 'er', 'plots.svg');
  writePlots(file, rows, 'written');
  assert.equal(readFileSync(file, 'utf8'), renderPlotsSvg(rows, 'written'));
});
