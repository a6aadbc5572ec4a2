/**
 * Recipe loading: parsing, defaults, ${var} substitution, --set overrides typed from the parameter or the existing
 * value, and one-line errors naming the file, field and line for wrong keys, types and references, including the
 * built-in stages' own checks (trainer settings, model config, sampling) before anything runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadRecipe, parseRecipe } from '../../src/recipes/recipe.ts';
import { registerBuiltinStages } from '../../src/recipes/stages/index.ts';
import { registerFakeStages } from './fake-stages.ts';
import { UserError } from '../../src/util/user-error.ts';

registerFakeStages();

const RECIPE = `# a test recipe
out: runs/\${name}
seed: 7
name: test
word: hello
times: 2
stages:
  - name: first
    type: fake-write
    text: "\${word} world "
    count: \${times}
  - name: second
    type: fake-upper
    from: first
`;

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof UserError, `not a user error: ${(e as Error).stack}`);
    return (e as Error).message;
  }
  assert.fail('expected an error');
}

test('parses settings, fills defaults and substitutes variables with their types', () => {
  const r = parseRecipe(RECIPE, 'x.yaml');
  assert.equal(r.out, 'runs/test');
  assert.equal(r.seed, 7);
  assert.deepEqual(r.vars, { name: 'test', word: 'hello', times: 2 });
  assert.deepEqual(
    r.stages.map((s) => [s.name, s.type, s.index]),
    [
      ['first', 'fake-write', 0],
      ['second', 'fake-upper', 1],
    ],
  );
  assert.deepEqual(r.stages[0]!.params, { text: 'hello world ', count: 2, shout: false, tags: [], extra: {} });
  assert.deepEqual(r.stages[1]!.params, { from: 'first' });
});

test('the default out is runs/<recipe name>', () => {
  const r = parseRecipe('stages:\n  - {name: a, type: fake-write, text: x}\n', 'recipes/quick.yaml');
  assert.equal(r.out, 'runs/quick');
  assert.equal(r.seed, 0);
});

test('--set overrides top-level variables and stage parameters, typed', () => {
  const r = parseRecipe(RECIPE, 'x.yaml', {
    set: [
      'times=5',
      'word=bye',
      'stages.first.shout=true',
      'stages.first.tags=[a, b]',
      'stages.first.extra.depth.n=3',
      'out=elsewhere',
      'seed=11',
    ],
  });
  assert.equal(r.out, 'elsewhere');
  assert.equal(r.seed, 11);
  assert.deepEqual(r.stages[0]!.params, {
    text: 'bye world ',
    count: 5,
    shout: true,
    tags: ['a', 'b'],
    extra: { depth: { n: 3 } },
  });
  // A stage parameter override wins over the variable it replaces.
  assert.equal(parseRecipe(RECIPE, 'x.yaml', { set: ['stages.first.count=9', 'times=5'] }).stages[0]!.params.count, 9);
  // A string variable stays a string even when it looks like a number.
  assert.equal(parseRecipe(RECIPE, 'x.yaml', { set: ['word=42'] }).vars.word, '42');
});

test('--set errors name the key and list the valid ones', () => {
  assert.match(
    errorOf(() => parseRecipe(RECIPE, 'x.yaml', { set: ['timez=5'] })),
    /^--set timez=5: unknown key "timez" in x\.yaml; valid keys: out, seed, name, word, times, or stages\.<stage>\.<parameter> for stages first, second$/,
  );
  assert.match(
    errorOf(() => parseRecipe(RECIPE, 'x.yaml', { set: ['stages.first.cnt=5'] })),
    /unknown key "stages\.first\.cnt"; valid parameters of stage first \(fake-write\): text, count, shout, tags, extra$/,
  );
  assert.match(
    errorOf(() => parseRecipe(RECIPE, 'x.yaml', { set: ['stages.third.count=5'] })),
    /unknown stage "third" in x\.yaml; stages: first, second/,
  );
  assert.equal(
    errorOf(() => parseRecipe(RECIPE, 'x.yaml', { set: ['times=abc'] })),
    '--set times=abc: expected a number, received "abc"',
  );
  assert.equal(
    errorOf(() => parseRecipe(RECIPE, 'x.yaml', { set: ['stages.first.shout=yes'] })),
    '--set stages.first.shout=yes: expected true or false, received "yes"',
  );
  assert.equal(
    errorOf(() => parseRecipe(RECIPE, 'x.yaml', { set: ['times'] })),
    '--set times: expected key=value',
  );
  assert.equal(
    errorOf(() => parseRecipe(RECIPE, 'x.yaml', { set: ['stages.first.count=2.5'] })),
    'x.yaml: stages[0].count: expected an integer, received 2.5 (set by --set stages.first.count=2.5)',
  );
});

test('validation errors name the file, the field, expected and received, and the line', () => {
  const bad = (stage: string) => `out: o\nstages:\n  - name: a\n    type: fake-write\n    text: x\n${stage}`;
  assert.equal(
    errorOf(() =>
      parseRecipe(bad('  - name: b\n    type: fake-write\n    text: y\n    count: abc\n'), 'recipes/x.yaml'),
    ),
    'recipes/x.yaml: stages[1].count: expected an integer, received "abc" (line 9)',
  );
  assert.equal(
    errorOf(() => parseRecipe(bad('  - name: b\n    type: fake-write\n    text: y\n    steps: 3\n'), 'recipes/x.yaml')),
    'recipes/x.yaml: stages[1].steps: unknown parameter; valid parameters: text, count, shout, tags, extra (line 9)',
  );
  assert.equal(
    errorOf(() => parseRecipe(bad('  - name: b\n    type: fake-write\n'), 'r.yaml')),
    'r.yaml: stages[1].text: missing required parameter (what to write) (line 6)',
  );
  assert.match(
    errorOf(() => parseRecipe(bad('  - name: b\n    type: nope\n'), 'r.yaml')),
    /^r\.yaml: stages\[1\]\.type: expected a stage type \(.*fake-upper, fake-write.*\), received "nope" \(line 7\)$/,
  );
  assert.equal(
    errorOf(() => parseRecipe(bad('  - name: a\n    type: fake-write\n    text: y\n'), 'r.yaml')),
    'r.yaml: stages[1].name: duplicate stage name "a" (line 6)',
  );
  assert.equal(
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a recipe variable reference, not a JS template
    errorOf(() => parseRecipe(bad('  - name: b\n    type: fake-write\n    text: ${nope}\n'), 'r.yaml')),
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the error message quotes the recipe variable
    'r.yaml: stages[1].text: unknown variable ${nope}; variables: out, seed (line 8)',
  );
  assert.equal(
    errorOf(() =>
      parseRecipe(
        bad('  - name: b\n    type: fake-upper\n    from: c\n  - name: c\n    type: fake-write\n    text: z\n'),
        'r.yaml',
      ),
    ),
    'r.yaml: stages[1].from: stage "c" must come before stage "b" (line 8)',
  );
  assert.equal(
    errorOf(() => parseRecipe('out: [1]\nstages: []\n', 'r.yaml')),
    'r.yaml: out: expected a string, number or boolean, received a list (line 1)',
  );
  assert.equal(
    errorOf(() => parseRecipe('out: o\nstages: []\n', 'r.yaml')),
    'r.yaml: stages: expected at least one stage, received an empty list (line 2)',
  );
  assert.equal(
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a recipe variable reference, not a JS template
    errorOf(() => parseRecipe('a: ${b}\nb: ${a}\nstages:\n  - {name: s, type: fake-write, text: "${a}"}\n', 'r.yaml')),
    'r.yaml: a: variable refers to itself: a -> b -> a (line 1)',
  );
  assert.match(
    errorOf(() => parseRecipe('out: o\n  bad: [\n', 'r.yaml')),
    /^r\.yaml: invalid YAML: .*line \d+/,
  );
  assert.equal(
    errorOf(() => parseRecipe('seed: 1.5\nstages:\n  - {name: s, type: fake-write, text: x}\n', 'r.yaml')),
    'r.yaml: seed: expected an integer, received 1.5 (line 1)',
  );
});

test('the built-in stages check their settings when the recipe loads', () => {
  registerBuiltinStages();
  const demo = loadRecipe('recipes/demo.yaml');
  assert.deepEqual(
    demo.stages.map((s) => s.type),
    ['corpus', 'tokenizer', 'data', 'model', 'predict', 'pretrain', 'predict', 'sample'],
  );
  assert.equal(demo.out, 'runs/demo');
  assert.equal(demo.stages[5]!.params.steps, demo.vars.steps);
  assert.match(
    errorOf(() => loadRecipe('recipes/demo.yaml', { set: ['steps=2.5'] })),
    /^recipes\/demo\.yaml: stages\[5\]: pretrain stage "pretrain": train config: steps must be a positive integer, received 2\.5 \(line \d+\)$/,
  );
  assert.match(
    errorOf(() => loadRecipe('recipes/demo.yaml', { set: ['stages.model.config.nHead=3'] })),
    /^recipes\/demo\.yaml: stages\[3\]: model stage "model": .*nEmbd 128 must be a multiple of nHead 3/,
  );
  assert.match(
    errorOf(() => loadRecipe('recipes/demo.yaml', { set: ['stages.model.config.depth=3'] })),
    /model stage "model": config: unknown model field "depth" \(known: arch, vocabSize, /,
  );
  assert.match(
    errorOf(() => loadRecipe('recipes/demo.yaml', { set: ['stages.sample.topP=0'] })),
    /sample stage "sample": sampling: topP must be in \(0, 1\]/,
  );
  assert.match(
    errorOf(() => loadRecipe('recipes/demo.yaml', { set: ['stages.corpus.format=csv'] })),
    /corpus stage "corpus": format must be jsonl or txt, received "csv"/,
  );
  assert.match(
    errorOf(() => loadRecipe('recipes/demo.yaml', { set: ['stages.pretrain.stepz=3'] })),
    /unknown key "stages\.pretrain\.stepz"; valid parameters of stage pretrain \(pretrain\): steps, batchSize, /,
  );
});
