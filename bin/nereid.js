#!/usr/bin/env node
// The `nereid` command: the compiled server in dist/ (built by `npm run build`, and by `prepare`
// before the package is packed), run by Node.js alone, with no TypeScript loader.
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('nereid: dist/main.js is missing; in a clone of the repository, run `npm run build` first\n');
  process.exit(1);
}
await import(main.href);
