/**
 * `llmforge pull owner/name [--revision main] [--cache-dir DIR] [--offline]`: downloads the files a model needs
 * from the Hugging Face hub into the llmforge cache (resumable, verified, with a progress bar) and prints the
 * snapshot directory, which every --model option accepts (as does hf://owner/name).
 */
import { cacheRoot } from '../../hub/cache.ts';
import { pullModel } from '../../hub/pull.ts';
import { formatBytes } from '../../models/units.ts';
import { UsageError } from '../args.ts';
import type { Command } from '../command.ts';

export const pullCommand: Command = {
  spec: {
    name: 'pull',
    summary: 'Download a model from the Hugging Face hub into the local cache',
    usage: 'llmforge pull owner/name [--revision REV] [--cache-dir DIR] [--offline]',
    options: {
      revision: { type: 'string', help: 'Branch, tag or commit', default: 'main', arg: 'REV' },
      'cache-dir': {
        type: 'string',
        help: 'Cache root (default: $LLMFORGE_CACHE, else ~/.cache/llmforge/hub)',
        arg: 'DIR',
      },
      offline: { type: 'boolean', help: 'Use only the cache, never the network (also HF_HUB_OFFLINE=1)' },
    },
    details: [
      'Only config.json, generation_config.json, the tokenizer files and the safetensors weights are downloaded.',
      'Interrupted downloads resume (HTTP Range) from <file>.incomplete; every file is checked against its size and',
      'sha256 before it takes its final name. Environment: HF_ENDPOINT (default https://huggingface.co), HF_TOKEN',
      '(sent as Authorization: Bearer, for gated or private models), HF_HUB_OFFLINE=1, LLMFORGE_CACHE.',
      'Example:',
      '  llmforge pull openai-community/gpt2 && llmforge generate --model hf://openai-community/gpt2 "Hello"',
    ].join('\n'),
  },
  async run(args) {
    if (args.positionals.length !== 1)
      throw new UsageError(`pull: expected one model name owner/name, received ${args.positionals.length} arguments`);
    const cacheDir = args.options['cache-dir'] as string | undefined;
    const r = await pullModel(args.positionals[0]!, {
      revision: args.options.revision as string,
      ...(cacheDir !== undefined ? { cacheDir } : {}),
      ...(args.options.offline === true ? { offline: true } : {}),
    });
    const total = r.files.reduce((n, f) => n + f.size, 0);
    process.stderr.write(
      `${r.files.length} files, ${formatBytes(total)}${r.downloaded ? `, ${formatBytes(r.downloaded)} downloaded` : ', all from the cache'} (cache ${cacheRoot(cacheDir)})\n`,
    );
    process.stdout.write(`${r.dir}\n`);
  },
};
