#!/usr/bin/env node
// Called by `npm install` when the native addon fails to build: explain, and let the install finish so the
// pure TypeScript reference backend can still run (slowly).
process.stderr.write(`
WARNING: llmforge's native addon (native/, built with node-gyp) failed to build.
llmforge will run on its pure TypeScript reference backend, which is 10-100x slower.
Fix: install a C++ toolchain (g++ or clang, make, python3), then run \`npm run build:native\`.
`);
