#!/usr/bin/env node
// Called by `npm install` when the native addon fails to build: explain, and let the install finish so the
// pure TypeScript reference backend can still run (slowly). With LLMFORGE_REQUIRE_NATIVE=1 (CI) the install fails
// instead, so a broken native build can never pass unnoticed.
const required = process.env.LLMFORGE_REQUIRE_NATIVE === '1';
process.stderr.write(`
${required ? 'ERROR' : 'WARNING'}: llmforge's native addon (native/, built with node-gyp) failed to build.
${required ? 'LLMFORGE_REQUIRE_NATIVE=1 is set, so the install fails.' : 'llmforge will run on its pure TypeScript reference backend, which is 10-100x slower.'}
Fix: install a C++ toolchain (g++ or clang, make, python3), then run \`npm run build:native\`.
`);
process.exit(required ? 1 : 0);
