/**
 * The package description stays consistent with the sources, without building anything (the slow end-to-end proof
 * is pack.test.ts): every `exports` entry points into dist/ at a module compiled from an index in src/, the bin is
 * the compiled CLI with its shebang, the `files` whitelist ships what node-gyp and the install script need, tsx is
 * no run-time dependency, and no module inside src imports a package entry index (they are facades for users only,
 * so the one-way flow of imports between areas is not bent by them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Pkg {
  bin: Record<string, string>;
  exports: Record<string, string | { types: string; import: string }>;
  files: string[];
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
}
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Pkg;

/** The source module that tsconfig.build.json compiles into a dist/ path. */
const sourceOf = (distPath: string): string => distPath.replace(/^\.\/dist\//, 'src/').replace(/\.d\.ts$|\.js$/, '.ts');
const shipped = (path: string): boolean => pkg.files.some((f) => path === f || path.startsWith(`${f}/`));

const entryIndexes = Object.entries(pkg.exports)
  .filter(([key]) => key !== './package.json')
  .map(([key, target]) => {
    assert.ok(typeof target === 'object', `exports["${key}"] needs types and import conditions`);
    assert.match(target.import, /^\.\/dist\/.*\.js$/, `exports["${key}"].import`);
    assert.match(target.types, /^\.\/dist\/.*\.d\.ts$/, `exports["${key}"].types`);
    assert.equal(
      sourceOf(target.types),
      sourceOf(target.import),
      `exports["${key}"]: types and import name different modules`,
    );
    return { key, source: sourceOf(target.import) };
  });

test('every export entry is compiled from an index module in src', () => {
  assert.ok(entryIndexes.some((e) => e.key === '.') && entryIndexes.length >= 10);
  for (const { key, source } of entryIndexes)
    assert.ok(existsSync(join(ROOT, source)), `exports["${key}"] comes from ${source}, which does not exist`);
});

test('the llmforge bin is the compiled CLI, run by plain node', () => {
  assert.equal(pkg.bin.llmforge, 'dist/cli/main.js');
  assert.ok(
    readFileSync(join(ROOT, 'src', 'cli', 'main.ts'), 'utf8').startsWith('#!/usr/bin/env node\n'),
    'src/cli/main.ts must open with a node shebang',
  );
  assert.equal(pkg.dependencies.tsx, undefined, 'tsx is a devDependency only');
  assert.ok(shipped('dist/cli/main.js'));
});

test('the files whitelist ships what the install script and node-gyp need, and the recipes the CLI reads', () => {
  const gyp = JSON.parse(readFileSync(join(ROOT, 'binding.gyp'), 'utf8')) as { targets: { sources: string[] }[] };
  for (const source of gyp.targets.flatMap((t) => t.sources))
    assert.ok(shipped(source), `${source} (binding.gyp) is not in package.json files`);
  for (const header of readdirSync(join(ROOT, 'native', 'src')))
    assert.ok(shipped(`native/src/${header}`), `native/src/${header} is not shipped`);
  assert.ok(shipped('binding.gyp'));
  for (const script of pkg.scripts.install?.match(/scripts\/[\w.-]+/g) ?? [])
    assert.ok(shipped(script), `${script} (install script) is not shipped`);
  assert.ok(shipped('recipes/demo.yaml'), 'llmforge start reads recipes/demo.yaml beside the package');
  assert.ok(
    Object.keys(pkg.dependencies).includes('node-addon-api'),
    'binding.gyp needs node-addon-api at install time',
  );
});

test('no module inside src imports a package entry index', () => {
  const entries = new Set(entryIndexes.map((e) => e.source).filter((s) => s !== 'src/index.ts'));
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((n) =>
      statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : n.endsWith('.ts') ? [join(dir, n)] : [],
    );
  for (const file of walk(join(ROOT, 'src'))) {
    const rel = relative(ROOT, file);
    if (rel === 'src/index.ts' || entries.has(rel)) continue;
    for (const m of readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
      const target = relative(ROOT, join(file, '..', m[1]!));
      assert.ok(
        !entries.has(target),
        `${rel} imports the package entry ${target}; import the module it re-exports instead`,
      );
    }
  }
});
