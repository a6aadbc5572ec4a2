/**
 * How long loading a saved model directory takes, and the process's peak resident memory while doing it: `make`
 * saves a randomly initialized model of a preset (default gpt2-124m) with saveModel; `load` opens it with
 * loadModel in a fresh process and prints the wall time of the load and the peak RSS (the process's maxRSS, so run
 * one load per process). Weights loaded into a model built without initialization cost one pass over the file; a
 * random init before the load adds a pass of random draws over every parameter and its memory traffic.
 *
 * Run: node --import tsx bench/model-load.ts make /tmp/gpt2-rand [--preset=gpt2-124m]
 *      node --import tsx bench/model-load.ts load /tmp/gpt2-rand
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { createModel } from '../src/models/create.ts';
import { loadModel, saveModel } from '../src/models/model-io.ts';
import { resolveModelConfig } from '../src/models/presets.ts';
import { Rng } from '../src/tensor/random.ts';

const MB = 1024 * 1024;

function main(argv: string[]): void {
  const [cmd, dir] = argv;
  const preset = argv.find((a) => a.startsWith('--preset='))?.slice('--preset='.length) ?? 'gpt2-124m';
  if ((cmd !== 'make' && cmd !== 'load') || !dir) {
    console.error('usage: node --import tsx bench/model-load.ts make|load <dir> [--preset=gpt2-124m]');
    process.exit(2);
  }
  if (cmd === 'make') {
    const model = createModel(resolveModelConfig(preset), new Rng(0));
    saveModel(dir, model);
    console.log(`saved ${model.numParameters().toLocaleString('en-US')} parameters (${preset}, random init) to ${dir}`);
    return;
  }
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  const model = loadModel(dir);
  const ms = performance.now() - t0;
  const peak = (process.resourceUsage().maxRSS * 1024) / MB; // maxRSS is in KiB
  console.log(
    `loaded ${model.numParameters().toLocaleString('en-US')} parameters from ${dir} in ${(ms / 1000).toFixed(2)} s; RSS before ${(rssBefore / MB).toFixed(0)} MiB, peak ${peak.toFixed(0)} MiB`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main(process.argv.slice(2));
