/**
 * The `data prepare` arguments the CLI tests use for a tiny character-level dataset: paragraphs of a small corpus
 * kept as they are (no de-duplication or quality filters), a fifth held out, the char tokenizer. One place for the
 * flags, so the tests that train a throwaway model on such data prepare it the same way.
 */
export function charPrepareArgs(corpus: string, out: string): string[] {
  return [
    'data',
    'prepare',
    '--input',
    corpus,
    '--paragraphs',
    '--no-dedup',
    '--no-near-dedup',
    '--no-filters',
    '--val-fraction',
    '0.2',
    '--tokenizer',
    'char',
    '--out',
    out,
    '--quiet',
  ];
}
