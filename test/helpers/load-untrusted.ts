/**
 * Child-process side of the oversized-config tests: loads each model path given on the command line (a model
 * directory, llmforge's or Hugging Face's, or a .gguf file) and prints one JSON line per path with the error it
 * raised (message and whether it is a UserError), the milliseconds the load took and the resident memory growth,
 * so the parent can assert that a hostile config is refused quickly and without allocating.
 */
import { importGguf } from '../../src/export/gguf/import-gguf.ts';
import { loadModel } from '../../src/models/model-io.ts';
import { isUserError } from '../../src/util/user-error.ts';

for (const path of process.argv.slice(2)) {
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  let error: string | null = null;
  let user = false;
  try {
    if (path.endsWith('.gguf')) importGguf(path);
    else loadModel(path);
  } catch (e) {
    error = (e as Error).message;
    user = isUserError(e);
  }
  const ms = performance.now() - t0;
  const rssGrowthMB = (process.memoryUsage().rss - rss0) / 2 ** 20;
  process.stdout.write(`${JSON.stringify({ path, error, user, ms, rssGrowthMB })}\n`);
}
