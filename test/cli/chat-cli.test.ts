/**
 * `llmforge chat` as a new user meets it: in a real terminal (a pseudo-terminal driven by python3's pty module)
 * what is typed is echoed and the prompt shows; `/help`, `/reset`, `/exit` and an unknown `/command` are answered
 * locally and never reach the model (`//text` sends `/text`); a base model (no tuner's mark, no chat_template) gets
 * one warning naming the fix before the first answer, a model marked by SFT gets none; bad sampling flags are one
 * line before anything is printed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { chatCommandOf } from '../../src/cli/commands/chat.ts';
import { instructionTuning } from '../../src/chat/tuned.ts';
import { completeModelConfig } from '../../src/models/config.ts';
import { createModel } from '../../src/models/create.ts';
import { saveModel } from '../../src/models/model-io.ts';
import { Rng } from '../../src/tensor/random.ts';
import { saveTextTokenizer } from '../../src/tokenizer/text-tokenizer.ts';
import { trainBpe, WordCounter } from '../../src/tokenizer/train-bpe.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const root = tempDir('chat-cli');
const base = join(root, 'base');
const tuned = join(root, 'tuned');
{
  const wc = new WordCounter();
  wc.add('The sun rises in the east. The sun sets in the west.\n'.repeat(30));
  const tok = trainBpe(wc.counts, { vocabSize: 280 });
  const model = createModel(
    completeModelConfig({ arch: 'gpt2', vocabSize: tok.vocabSize, blockSize: 32, nLayer: 1, nHead: 2, nEmbd: 16 }),
    new Rng(3),
  );
  for (const [dir, extra] of [
    [base, {}],
    [tuned, { finetune: 'sft', template: 'chatml' }],
  ] as const) {
    mkdirSync(dir);
    saveModel(dir, model, extra);
    saveTextTokenizer(dir, tok);
  }
}

function chat(model: string, input: string, ...flags: string[]) {
  const max = flags.includes('--max-tokens') ? [] : ['--max-tokens', '2'];
  return spawnSync(process.execPath, ['bin/llmforge.js', 'chat', '--model', model, ...max, ...flags], {
    encoding: 'utf8',
    input,
  });
}

const hasPython = spawnSync('python3', ['-c', 'import pty'], { encoding: 'utf8' }).status === 0;

// Drives the CLI in a pseudo-terminal: waits for each expected text before typing the next line, then prints
// everything the terminal showed. Arguments: a JSON list of [line to type, text to wait for after it].
const PTY_DRIVER = `
import json, os, pty, select, sys, time
argv, steps = json.loads(sys.argv[1]), json.loads(sys.argv[2])
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
out = b''
def wait_for(text, timeout=60):
    global out
    end = time.time() + timeout
    while time.time() < end and text.encode() not in out:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:
                return
            if not data:
                return
            out += data
wait_for('> ')
for line, expect in steps:
    os.write(fd, (line + '\\r').encode())
    wait_for(expect)
wait_for('\\x00', 20)  # until the process ends (EOF on the terminal)
os.waitpid(pid, 0)
sys.stdout.write(out.decode('utf8', 'replace'))
`;

test('chat in a terminal: typed text is echoed, /help and unknown /commands stay local, base model warned', {
  skip: hasPython ? false : 'python3 with pty is not available',
}, () => {
  const argv = [process.execPath, resolve('bin/llmforge.js'), 'chat', '--model', base, '--max-tokens', '2'];
  const steps = [
    ['/help', '/reset forgets'],
    ['/frobnicate now', 'unknown command /frobnicate'],
    ['hello there', '[stopped: '],
    ['/exit', '\u0000'],
  ];
  const r = spawnSync('python3', ['-c', PTY_DRIVER, JSON.stringify(argv), JSON.stringify(steps)], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.status, 0, r.stderr);
  const screen = stripVTControlCharacters(r.stdout); // readline's cursor moves
  assert.match(screen, /warning: .* looks like a base model .*llmforge finetune sft/);
  assert.match(screen, /> \/help/, 'the typed /help is echoed');
  assert.match(screen, /\/help shows this, \/reset forgets the conversation/);
  assert.match(screen, /> \/frobnicate now/);
  assert.match(screen, /unknown command \/frobnicate; the commands are \/help, \/reset, \/exit/);
  assert.match(screen, /> hello there/, 'the typed message is echoed');
});

test('piped chat: commands answered locally, // sends a slash message, base model warned once, tuned not', () => {
  const r = chat(base, '/help\n/what\n//etc is a folder\n/exit\nnot read\n');
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 3, r.stdout);
  assert.match(lines[0]!, /^\/help shows this/);
  assert.match(lines[1]!, /^unknown command \/what; the commands are/);
  assert.equal(r.stderr.match(/warning:/g)?.length, 1, r.stderr);
  assert.match(r.stderr, /looks like a base model .* llmforge finetune sft --model /);

  const t = chat(tuned, 'Say hi.\n');
  assert.equal(t.status, 0, t.stderr);
  assert.doesNotMatch(t.stderr, /warning/);
  assert.equal(t.stdout.split('\n').filter((l) => l !== '').length, 1);
});

test('chat: bad sampling flags are one line and nothing on stdout', () => {
  for (const [flag, value] of [
    ['--temperature', '-1'],
    ['--max-tokens', '0'],
    ['--seed', '1.5'],
  ] as const) {
    const r = chat(tuned, 'hi\n', flag, value);
    assert.equal(r.status, 2, `${flag} ${value}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, new RegExp(`^error: chat: ${flag} must be .*, received ${value}\\n$`));
  }
});

test('chatCommandOf and instructionTuning', () => {
  assert.equal(chatCommandOf('/exit'), 'exit');
  assert.equal(chatCommandOf('/QUIT'), 'exit');
  assert.equal(chatCommandOf('/reset'), 'reset');
  assert.equal(chatCommandOf('/help'), 'help');
  assert.equal(chatCommandOf('hello'), undefined);
  assert.equal(chatCommandOf('//x'), undefined);
  assert.match(chatCommandOf('/x y')!, /^unknown command \/x;/);
  assert.equal(instructionTuning(base), undefined);
  assert.equal(instructionTuning(tuned), 'config.json finetune "sft"');
  const hf = join(root, 'hf');
  mkdirSync(hf);
  writeFileSync(join(hf, 'tokenizer_config.json'), JSON.stringify({ chat_template: '{{ messages }}' }));
  assert.match(instructionTuning(hf)!, /chat_template/);
  assert.ok(readFileSync(join(tuned, 'config.json'), 'utf8').includes('"finetune"'));
});
