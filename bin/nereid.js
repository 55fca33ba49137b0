#!/usr/bin/env node
// The `nereid` command. Runs the TypeScript sources through tsx (a dependency), so the
// command works straight after `npm install`, with no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
