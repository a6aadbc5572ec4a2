/**
 * The command-line parser's handling of repetition: an option declared repeatable collects every value in order
 * (`--x a --x=b`), any other option given twice (string, number or boolean) is one usage error naming the flag and
 * both values, and `--help` marks repeatable options. `--set` (info, train) repeated keeps every override.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { optionValues, parseArgs, renderHelp, UsageError, type CommandSpec } from '../../src/cli/args.ts';
import { collectOverrides, infoCommand } from '../../src/cli/commands/info.ts';
import { trainCommand } from '../../src/cli/commands/train.ts';

const spec: CommandSpec = {
  name: 'demo',
  summary: 'test command',
  usage: 'llmforge demo',
  options: {
    text: { type: 'string', help: 'Texts', arg: 'FILE', repeatable: true },
    model: { type: 'string', help: 'Model', arg: 'DIR' },
    steps: { type: 'number', help: 'Steps', default: 10 },
    json: { type: 'boolean', help: 'JSON' },
  },
};

test('a repeatable option collects every value in order; optionValues reads any option as a list', () => {
  const p = parseArgs(spec, ['--text', 'a', 'pos', '--text=b,c', '--model', 'm', '--text', 'd']);
  assert.deepEqual(p.options.text, ['a', 'b,c', 'd']);
  assert.deepEqual(p.positionals, ['pos']);
  assert.deepEqual(optionValues(p, 'text'), ['a', 'b,c', 'd']);
  assert.deepEqual(optionValues(p, 'model'), ['m']);
  assert.deepEqual(optionValues(p, 'steps'), ['10']);
  assert.deepEqual(optionValues(parseArgs(spec, ['--text', 'x']), 'text'), ['x']);
  assert.deepEqual(optionValues(parseArgs(spec, []), 'text'), []);
});

test('a non-repeatable option given twice is a usage error naming the flag and both values', () => {
  const cases: [string[], RegExp][] = [
    [
      ['--model', 'a', '--model', 'b'],
      /^demo: --model given twice \("a", then "b"\); it takes one value, give it once$/,
    ],
    [['--steps=5', 'x', '--steps', '6'], /^demo: --steps given twice \("5", then "6"\)/],
    [['--json', '--json=false'], /^demo: --json given twice; it takes one value, give it once$/],
  ];
  for (const [argv, re] of cases) {
    assert.throws(
      () => parseArgs(spec, argv),
      (e: Error) => e instanceof UsageError && re.test(e.message),
      argv.join(' '),
    );
  }
  assert.equal(parseArgs(spec, ['--model', 'a', '--', '--model', 'b']).options.model, 'a');
});

test('--help marks repeatable options', () => {
  const help = renderHelp(spec);
  assert.match(help, /--text FILE +Texts \(repeatable\)\n/);
  assert.match(help, /--model DIR +Model\n/);
});

test('info and train specs: --set repeated applies every override, as --set with further key=value arguments does', () => {
  const repeated = collectOverrides(
    'info',
    parseArgs(infoCommand.spec, ['--model', 'gpt-mini', '--set', 'nLayer=2', '--set', 'vocabSize=1000']),
  );
  assert.deepEqual(repeated, { nLayer: 2, vocabSize: 1000 });
  const trailing = collectOverrides(
    'info',
    parseArgs(infoCommand.spec, ['--model', 'gpt-mini', '--set', 'nLayer=2', 'vocabSize=1000']),
  );
  assert.deepEqual(trailing, repeated);
  assert.deepEqual(optionValues(parseArgs(trainCommand.spec, ['--set', 'nLayer=2', '--set=lr=0.01']), 'set'), [
    'nLayer=2',
    'lr=0.01',
  ]);
  assert.throws(
    () => parseArgs(infoCommand.spec, ['--batch', '2', '--batch', '4']),
    /^UsageError: info: --batch given twice \("2", then "4"\)/,
  );
});
