/**
 * Preference pairs: every supported layout (Alpaca style, text prompt, chat prompt, two whole conversations) becomes
 * a chosen and a rejected instruction record with the same prompt; identical pairs are dropped and counted; a
 * synthetic Alpaca-style preference file (the layout of LLMs-from-scratch's) loads; malformed records are errors naming
 * the file, record and field. The real LLMs-from-scratch file is checked in test-data/.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadPreferencePairs, parsePreferenceRecord } from '../../src/finetune/preference-data.ts';
import { toMessages } from '../../src/chat/records.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { syntheticInstructions } from '../helpers/tiny-instructions.ts';

test('preference layouts become chosen/rejected records sharing the prompt', () => {
  const alpaca = parsePreferenceRecord(
    { instruction: 'Fix it.', input: 'He go.', output: 'He goes.', chosen: 'He goes.', rejected: 'He goes, dummy.' },
    'r',
  );
  assert.deepEqual(toMessages(alpaca.chosen), [
    { role: 'user', content: 'Fix it.\n\nHe go.' },
    { role: 'assistant', content: 'He goes.' },
  ]);
  assert.deepEqual(toMessages(alpaca.rejected)[1], { role: 'assistant', content: 'He goes, dummy.' });

  const text = parsePreferenceRecord({ prompt: 'Hi?', chosen: 'Hello.', rejected: 'Go away.' }, 'r');
  assert.deepEqual(toMessages(text.chosen), [
    { role: 'user', content: 'Hi?' },
    { role: 'assistant', content: 'Hello.' },
  ]);

  const sys = { role: 'system', content: 'Be kind.' };
  const user = { role: 'user', content: 'Hi?' };
  const chat = parsePreferenceRecord(
    { prompt: [sys, user], chosen: [{ role: 'assistant', content: 'Hello.' }], rejected: 'Go away.' },
    'r',
  );
  assert.deepEqual(toMessages(chat.chosen), [sys, user, { role: 'assistant', content: 'Hello.' }]);
  assert.deepEqual(toMessages(chat.rejected), [sys, user, { role: 'assistant', content: 'Go away.' }]);

  const whole = parsePreferenceRecord(
    {
      chosen: [user, { role: 'assistant', content: 'Hello.' }],
      rejected: [user, { role: 'assistant', content: 'No.' }],
    },
    'r',
  );
  assert.deepEqual(toMessages(whole.rejected), [user, { role: 'assistant', content: 'No.' }]);
});

test('identical pairs are dropped and counted; an Alpaca-style preference file loads', () => {
  const dir = tempDir('prefs');
  const path = join(dir, 'p.jsonl');
  writeFileSync(
    path,
    [
      { prompt: 'a', chosen: 'x', rejected: 'y' },
      { prompt: 'b', chosen: 'same', rejected: 'same' },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n'),
  );
  const d = loadPreferencePairs(path);
  assert.equal(d.pairs.length, 1);
  assert.equal(d.identical, 1);
  const records = syntheticInstructions(50, 5);
  records[7]!.rejected = records[7]!.chosen;
  records[30]!.rejected = records[30]!.chosen;
  const alpaca = join(dir, 'prefs.json');
  writeFileSync(alpaca, JSON.stringify(records, null, 1));
  const loaded = loadPreferencePairs(alpaca);
  assert.equal(loaded.pairs.length, 48);
  assert.equal(loaded.identical, 2);
  const first = loaded.pairs[0]!;
  assert.deepEqual(toMessages(first.chosen), [
    { role: 'user', content: 'Give the opposite of the word.\n\nhot' },
    { role: 'assistant', content: records[0]!.chosen },
  ]);
  assert.deepEqual(toMessages(first.rejected)[1], { role: 'assistant', content: records[0]!.rejected });
});

test('malformed preference records name the record and field', () => {
  const bad = (v: unknown) => () => parsePreferenceRecord(v, 'prefs.json record 4');
  assert.throws(bad({ prompt: 'a', chosen: 'x' }), /prefs\.json record 4: field "rejected" is missing/);
  assert.throws(
    bad({ instruction: 'a', chosen: 'x', rejected: 3 }),
    /record 4: field "rejected" must be a string in an Alpaca-style record, received 3/,
  );
  assert.throws(
    bad({ prompt: [{ role: 'user' }], chosen: 'x', rejected: 'y' }),
    /record 4 field "prompt": messages\[0\] must be/,
  );
  assert.throws(
    bad({
      chosen: [
        { role: 'user', content: 'a' },
        { role: 'assistant', content: 'x' },
      ],
      rejected: [
        { role: 'user', content: 'b' },
        { role: 'assistant', content: 'y' },
      ],
    }),
    /share every turn but the last/,
  );
  assert.throws(bad({ chosen: 'x', rejected: 'y' }), /no prompt/);
  assert.throws(
    bad({ prompt: 'a', chosen: [{ role: 'user', content: 'x' }], rejected: 'y' }),
    /the last message must have role "assistant"/,
  );
  assert.throws(bad([1]), /expected an object/);
});
