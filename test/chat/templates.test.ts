/** Template rendering tables: Alpaca, the ChatML-style default and a Jinja chat template (Qwen/ChatML style). */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { SftRecord } from '../../src/chat/records.ts';
import {
  alpacaTemplate,
  chatmlTemplate,
  jinjaTemplate,
  resolveTemplate,
  type PromptTemplate,
} from '../../src/chat/templates.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { UserError } from '../../src/util/user-error.ts';

const HEADER =
  'Below is an instruction that describes a task. Write a response that appropriately completes the request.';
const withInput: SftRecord = { kind: 'alpaca', instruction: 'Add the numbers.', input: '2 and 3', output: '5' };
const noInput: SftRecord = { kind: 'alpaca', instruction: 'Say hi.', input: '', output: 'hi' };
const chat: SftRecord = {
  kind: 'chat',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Capital of France?' },
    { role: 'assistant', content: 'Paris' },
  ],
};

const QWEN_LIKE =
  "{% for m in messages %}{{ '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** [template, record, expected segments as [text, train] pairs] */
const table: [PromptTemplate, SftRecord, [string, boolean][]][] = [
  [
    alpacaTemplate,
    withInput,
    [
      [`${HEADER}\n\n### Instruction:\nAdd the numbers.\n\n### Input:\n2 and 3\n\n### Response:\n`, false],
      ['5', true],
    ],
  ],
  [
    alpacaTemplate,
    noInput,
    [
      [`${HEADER}\n\n### Instruction:\nSay hi.\n\n### Response:\n`, false],
      ['hi', true],
    ],
  ],
  [
    chatmlTemplate,
    noInput,
    [
      ['<|im_start|>user\nSay hi.<|im_end|>\n', false],
      ['<|im_start|>assistant\n', false],
      ['hi', true],
    ],
  ],
  [
    chatmlTemplate,
    chat,
    [
      ['<|im_start|>system\nBe brief.<|im_end|>\n', false],
      ['<|im_start|>user\nCapital of France?<|im_end|>\n', false],
      ['<|im_start|>assistant\n', false],
      ['Paris', true],
    ],
  ],
  [
    jinjaTemplate(QWEN_LIKE),
    chat,
    [
      [
        '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nCapital of France?<|im_end|>\n<|im_start|>assistant\n',
        false,
      ],
      ['Paris<|im_end|>\n', true],
    ],
  ],
  [
    jinjaTemplate(QWEN_LIKE),
    withInput,
    [
      ['<|im_start|>user\nAdd the numbers.\n\n2 and 3<|im_end|>\n<|im_start|>assistant\n', false],
      ['5<|im_end|>\n', true],
    ],
  ],
];

test('templates: segments table (Alpaca, ChatML, Jinja)', () => {
  for (const [tpl, rec, want] of table) {
    assert.deepEqual(
      tpl.segments(rec).map((s) => [s.text, s.train]),
      want,
      `${tpl.name} ${JSON.stringify(rec).slice(0, 40)}`,
    );
  }
});

test('templates: generation prompts end with the assistant cue and hold no answer', () => {
  const promptOnly: SftRecord = { kind: 'chat', messages: chat.kind === 'chat' ? chat.messages.slice(0, -1) : [] };
  assert.equal(
    alpacaTemplate.prompt({ ...noInput, output: '' }),
    `${HEADER}\n\n### Instruction:\nSay hi.\n\n### Response:\n`,
  );
  assert.equal(
    chatmlTemplate.prompt(promptOnly),
    '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nCapital of France?<|im_end|>\n<|im_start|>assistant\n',
  );
  assert.equal(
    jinjaTemplate(QWEN_LIKE).prompt(promptOnly),
    '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nCapital of France?<|im_end|>\n<|im_start|>assistant\n',
  );
});

test('templates: the model template comes from tokenizer_config.json; bad names and files are user errors', () => {
  const dir = tempDir('tpl');
  writeFileSync(
    join(dir, 'tokenizer_config.json'),
    JSON.stringify({
      chat_template:
        '{{ bos_token }}{% for m in messages %}{{ m.content }}{% if m.role == "assistant" %}{{ eos_token }}{% else %}|{% endif %}{% endfor %}',
      bos_token: '<s>',
      eos_token: { content: '</s>' },
    }),
  );
  const tpl = resolveTemplate('model', dir);
  assert.deepEqual(
    tpl.segments(noInput).map((s) => [s.text, s.train]),
    [
      ['<s>Say hi.|', false],
      ['hi</s>', true],
    ],
  );
  assert.throws(
    () => resolveTemplate('vicuna'),
    (e: Error) => e instanceof UserError && /expected one of alpaca, chatml, model/.test(e.message),
  );
  writeFileSync(join(dir, 'tokenizer_config.json'), '{}');
  assert.throws(() => resolveTemplate('model', dir), /chat_template" is missing/);
});
