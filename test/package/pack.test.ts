/**
 * llmforge works as an npm package in plain Node: `npm pack` (its prepare script compiles src/ into dist/ with
 * tsc) gives a tarball that installs into a fresh project outside the repository with no network. npm's cache
 * lacks the registry metadata of the dependencies, so they are packed from this checkout's node_modules and
 * installed next to the tarball, which satisfies llmforge's ranges without asking the registry. The install runs
 * the package's scripts, so node-gyp builds the native addon from the tarball's sources (or the install prints the
 * loud fallback warning). Then plain node, with no tsx and no loader, imports every entry, runs a tensor op with its
 * backward and a tokenizer encode through the subpath entries, the engine example of docs/engine.md through the main
 * entry, and `llmforge --help` through node_modules/.bin.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/temp-dir.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The environment for the child processes: no loader options inherited, node-gyp compiling on every core. */
const ENV: NodeJS.ProcessEnv = { ...process.env, JOBS: 'max' };
delete ENV.NODE_OPTIONS;

function run(cmd: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, env: ENV, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.error) throw r.error;
  return r;
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  assert.equal(r.status, 0, `${what} failed (exit ${r.status}):\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
  return r.stdout;
}

// Runs in the installed project, by plain node: resolves every entry and exercises the tensor and tokenizer ones.
const CHECK = `
import { tensor, F, nativeAvailable } from 'llmforge/tensor';
import { trainBpe, CharTokenizer } from 'llmforge/tokenizer';
import * as main from 'llmforge';
import { readFileSync } from 'node:fs';
const pkg = JSON.parse(readFileSync(new URL(import.meta.resolve('llmforge/package.json')), 'utf8'));
const entries = Object.keys(pkg.exports).filter((k) => k !== './package.json').map((k) => 'llmforge' + k.slice(1));
const names = {};
for (const e of entries) names[e] = Object.keys(await import(e)).length;
const x = tensor([[1, 2], [3, 4]], undefined, { requiresGrad: true });
const loss = F.sum(F.mul(x, x));
loss.backward();
const bpe = trainBpe(new Map([['hello', 50], [' world', 30], [' hello', 20]]), { vocabSize: 264 });
const ids = bpe.encode('hello world hello');
const w = main.randn([4, 3], { seed: 0, std: 0.1, requiresGrad: true });
const ce = main.F.crossEntropy(main.F.linear(main.tensor([[1, 2, 3]]), w), [2]);
ce.backward();
new main.AdamW([w], { lr: 1e-2 }).step();
console.log(JSON.stringify({
  resolved: import.meta.resolve('llmforge/tensor'),
  names,
  loss: loss.item(),
  grad: Array.from(x.grad.data),
  native: nativeAvailable(),
  ids,
  decoded: bpe.decode(ids),
  chars: CharTokenizer.fromText('abc').encode('cab'),
  mainHasTrain: typeof main.train,
  mainLoss: ce.item(),
}));
`;

test('npm pack, an offline install outside the repository, then plain node runs the library and the CLI', {
  timeout: 900_000,
}, () => {
  const tmp = tempDir('pack');
  const packs = join(tmp, 'tarballs');
  mkdirSync(packs);
  ok(run('npm', ['pack', '--pack-destination', packs], ROOT), 'npm pack');
  const tarball = readdirSync(packs).find((n) => n.startsWith('llmforge-') && n.endsWith('.tgz'));
  assert.ok(tarball, `npm pack wrote no llmforge tarball into ${packs}`);

  const listing = ok(run('tar', ['-tzf', join(packs, tarball)], tmp), 'tar -t')
    .split('\n')
    .map((p) => p.replace(/^package\//, ''));
  for (const need of [
    'package.json',
    'dist/index.js',
    'dist/index.d.ts',
    'dist/cli/main.js',
    'dist/tensor/index.js',
    'binding.gyp',
    'native/src/binding.cc',
    'scripts/native-build-failed.mjs',
    'recipes/demo.yaml',
    'LICENSE',
  ]) {
    assert.ok(listing.includes(need), `the tarball lacks ${need}`);
  }
  for (const p of listing)
    assert.ok(
      !/^(src|test|bench|fixtures|build|node_modules)\//.test(p),
      `the tarball holds ${p}, which is not for users`,
    );

  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const deps = Object.keys(pkg.dependencies).map((d) => join(ROOT, 'node_modules', d));
  ok(run('npm', ['pack', '--ignore-scripts', '--pack-destination', packs, ...deps], ROOT), 'npm pack (dependencies)');
  const tarballs = readdirSync(packs)
    .filter((n) => n.endsWith('.tgz'))
    .map((n) => join(packs, n));
  assert.equal(tarballs.length, deps.length + 1);

  const app = join(tmp, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), '{ "name": "app", "private": true, "type": "module" }\n');
  const install = run(
    'npm',
    ['install', '--offline', '--no-audit', '--no-fund', '--foreground-scripts', ...tarballs],
    app,
  );
  ok(install, 'npm install of the tarball');
  const pkgDir = join(app, 'node_modules', 'llmforge');
  const built = existsSync(join(pkgDir, 'build', 'Release', 'llmforge_native.node'));
  if (!built)
    assert.match(
      install.stderr + install.stdout,
      /native addon .* failed to build/,
      'no addon was built and no warning said so',
    );
  assert.ok(!existsSync(join(app, 'node_modules', 'tsx')), 'tsx was installed: it must stay a devDependency');

  writeFileSync(join(app, 'check.mjs'), CHECK);
  const out = JSON.parse(ok(run(process.execPath, ['check.mjs'], app), 'node check.mjs')) as Record<string, unknown>;
  assert.ok(
    String(out.resolved).startsWith(`file://${pkgDir}/dist/`),
    `llmforge/tensor resolved to ${String(out.resolved)}`,
  );
  const names = out.names as Record<string, number>;
  assert.ok(
    Object.keys(names).length >= 10 && 'llmforge/tensor' in names,
    `entries checked: ${Object.keys(names).join(', ')}`,
  );
  for (const [entry, n] of Object.entries(names)) assert.ok(n > 0, `${entry} exports nothing`);
  assert.equal(out.loss, 30);
  assert.deepEqual(out.grad, [2, 4, 6, 8]);
  assert.equal(out.native, built);
  assert.equal(out.decoded, 'hello world hello');
  assert.ok((out.ids as number[]).length < 'hello world hello'.length, 'the BPE merges were not applied');
  assert.deepEqual(out.chars, [2, 0, 1]);
  assert.equal(out.mainHasTrain, 'function');
  assert.ok(
    typeof out.mainLoss === 'number' && out.mainLoss > 0 && Number.isFinite(out.mainLoss),
    `main entry loss ${String(out.mainLoss)}`,
  );

  // The declaration files resolve through the `types` conditions, for a strict TypeScript consumer.
  writeFileSync(
    join(app, 'typed.ts'),
    [
      "import { F, tensor, type Tensor } from 'llmforge/tensor';",
      "import { loadModelDir, type ModelConfig } from 'llmforge/models';",
      "import { train, type TrainConfig } from 'llmforge';",
      'const t: Tensor = F.sum(tensor([1, 2]));',
      'export const used: [number, ModelConfig | null, TrainConfig | null, unknown, unknown] = [t.size, null, null, loadModelDir, train];',
      '',
    ].join('\n'),
  );
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  ok(
    run(
      process.execPath,
      [
        tsc,
        '--noEmit',
        '--strict',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--types',
        'node',
        '--typeRoots',
        join(ROOT, 'node_modules', '@types'),
        'typed.ts',
      ],
      app,
    ),
    'tsc over a consumer of the package',
  );

  const help = ok(run(join(app, 'node_modules', '.bin', 'llmforge'), ['--help'], app), 'llmforge --help');
  assert.match(help, /Usage: llmforge <command>/);
  assert.match(help, /\bpredict\b/);
});
