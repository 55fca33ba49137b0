/** `npm run tune -- ...`: the tuner from a clone (the installed package runs it as `nereid tune`). */
import { tuneMain } from './cli.ts';

process.exitCode = await tuneMain(process.argv.slice(2));
