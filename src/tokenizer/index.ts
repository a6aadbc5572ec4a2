/**
 * `llmforge/tokenizer`: byte-level BPE and character tokenizers, loading them from tokenizer.json, GPT-2 files or
 * a model directory, saving them, and training a BPE vocabulary. A public entry point of the package only: code
 * inside src imports the module it needs, never this index.
 */
export { Tokenizer, StreamDecoder, type EncodeOptions, type SpecialMode } from './tokenizer.ts';
export { CharTokenizer } from './char.ts';
export { loadTokenizer } from './load.ts';
export { loadGpt2Files } from './gpt2-files.ts';
export { loadTokenizerJson, parseTokenizerJson, saveTokenizer, toTokenizerJson } from './hf-json.ts';
export { trainBpe, trainBpeFromFiles, WordCounter, type TrainBpeOptions } from './train-bpe.ts';
export { type TextTokenizer, eosId, loadTextTokenizer, saveTextTokenizer, encodeDocument } from './text-tokenizer.ts';
