/**
 * `llmforge classify --model <dir> "text"` prints the predicted label and class probabilities of one text;
 * `--input <file> --output <jsonl>` classifies a whole file in the training format (TSV, CSV or JSONL; labels in it
 * are ignored) and writes one JSON line per input, in input order: {"text":..,"label":..,"probs":{..}}.
 */
import { writeFileSync } from 'node:fs';
import { encodeExample, readClassifyData } from '../../finetune/classify-data.ts';
import { loadClassifier } from '../../finetune/classifier.ts';
import { predictClasses } from '../../finetune/classify-train.ts';
import { Rng } from '../../tensor/random.ts';
import { encodeDocument } from '../../tokenizer/text-tokenizer.ts';
import { UsageError } from '../args.ts';
import type { Command } from '../command.ts';

export const classifyCommand: Command = {
  spec: {
    name: 'classify',
    summary: 'Classify texts with a model trained by `finetune classify`',
    usage: 'llmforge classify --model <dir> ("text" | --input <file> --output <jsonl>)',
    options: {
      model: {
        type: 'string',
        help: 'Classifier directory, or the --out directory of `finetune classify`',
        arg: 'DIR',
      },
      input: { type: 'string', help: 'File of texts in the training format (TSV, CSV or JSONL)', arg: 'FILE' },
      output: { type: 'string', help: 'JSONL output, one line per input in order (default: stdout)', arg: 'FILE' },
      'batch-size': { type: 'number', help: 'Texts per forward pass', default: 32, arg: 'N' },
    },
  },
  run(args) {
    const o = args.options;
    if (typeof o.model !== 'string') throw new UsageError('classify: --model <dir> is required');
    const text = args.positionals.join(' ');
    if ((o.input === undefined) === (text === ''))
      throw new UsageError('classify: give either a text argument or --input FILE, not both or neither');
    const texts = typeof o.input === 'string' ? readClassifyData(o.input).map((d) => d.text) : [text];
    const { classifier: clf, tokenizer } = loadClassifier(o.model, new Rng(0));
    const { labels, maxLength, padId } = clf.info;
    const rows = texts.map((t) => encodeExample((s) => encodeDocument(tokenizer, s), t, maxLength, padId));
    const { pred, probs } = predictClasses(clf, rows, o['batch-size'] as number);
    const lines = texts.map((t, i) =>
      JSON.stringify({
        text: t,
        label: labels[pred[i]!],
        probs: Object.fromEntries(labels.map((l, k) => [l, Number(probs[i]![k]!.toFixed(6))])),
      }),
    );
    if (typeof o.output === 'string') {
      writeFileSync(o.output, lines.map((l) => `${l}\n`).join(''));
      process.stdout.write(`classified ${texts.length} texts into ${o.output}\n`);
    } else if (o.input === undefined) {
      const p = probs[0]!;
      process.stdout.write(
        `${labels[pred[0]!]}  (${labels.map((l, k) => `${l} ${(p[k]! * 100).toFixed(1)}%`).join(', ')})\n`,
      );
    } else process.stdout.write(lines.map((l) => `${l}\n`).join(''));
  },
};
