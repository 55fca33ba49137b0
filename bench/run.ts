/**
 * `npm run bench -- [options]`: the benchmark client (bench/cli.ts; `--help` lists the options).
 * `npm run bench -- --suite simple|mlp|all [...]` runs the fixed suites that bench/RESULTS.md
 * quotes (bench/suites.ts).
 */
const argv = process.argv.slice(2);
if (argv.some((a) => a === '--suite' || a.startsWith('--suite='))) {
  const { runSuites } = await import('./suites.ts');
  await runSuites(argv);
} else {
  const { main } = await import('./cli.ts');
  try {
    await main(argv);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    process.stderr.write(`bench: ${err.message}\n`);
    process.exitCode = 2;
  }
}
