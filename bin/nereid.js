#!/usr/bin/env node
// The `nereid` command: the compiled server in dist/ (built by `npm run build`, and by `prepare`
// before the package is packed), run by Node.js alone, with no TypeScript loader.
// `nereid tune ...` runs the tuner (dist/tune/) instead of the server.
import { existsSync } from 'node:fs';

const tune = process.argv[2] === 'tune';
const main = new URL(tune ? '../dist/tune/cli.js' : '../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(`nereid: ${tune ? 'dist/tune/cli.js' : 'dist/main.js'} is missing; in a clone of the repository, run \`npm run build\` first\n`);
  process.exit(1);
}
if (tune) {
  const { tuneMain } = await import(main.href);
  process.exitCode = await tuneMain(process.argv.slice(3));
} else {
  await import(main.href);
}
