#!/usr/bin/env node
// Runs the `llmforge` CLI straight from the TypeScript sources through tsx (a devDependency), for a source
// checkout and the tests that spawn the CLI. The published package's `llmforge` command is the compiled
// dist/cli/main.js (package.json "bin"), which plain node runs; this file is not in the package.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
