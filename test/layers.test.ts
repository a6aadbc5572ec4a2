/**
 * The folder layering of src/: every relative import of every .ts file under a src/<folder>/ (static, type-only,
 * re-export and dynamic, read with TypeScript's own import scanner) becomes an edge between two src folders. No two
 * folders may reach each other (a cycle is printed folder by folder, each step with a file, line and import, the
 * last step being the one that closes it), and every folder may import only folders listed before it in LAYERS, the
 * intended order from the tensor core up to the command line (tensor <- ops <- nn <- models <- train / finetune /
 * align / eval <- cli / serve / recipes). The package's entry files sit above every folder and are not checked:
 * src/index.ts and each src/<folder>/index.ts that only entry files import (the subpath entries, which gather a
 * public API from several folders); an index.ts that src code imports (e.g. src/backend/index.ts) is an ordinary file
 * of its folder. A new folder must be placed in LAYERS.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** src folders from lowest to highest: a folder imports only folders before it. */
const LAYERS = [
  // storage, autograd, kernels, modules, optimizers
  'util',
  'backend',
  'tensor',
  'ops',
  'nn',
  'optim',
  // weights on disk, tokenizers, models, the hub, data preparation, generation
  'io',
  'tokenizer',
  'models',
  'hub',
  'data',
  'generate',
  // chat records, templates and prompt encoding, shared by everything that talks to an instruction-tuned model
  'chat',
  // measuring and training
  'eval',
  'train',
  'finetune',
  'align',
  // front ends
  'export',
  'bench',
  // the report card of a recipe run (read from the files the stages write), below the studio server and the CLI
  'report',
  'serve',
  'recipes',
  // the browser app over runs and models
  'studio',
  'cli',
] as const;

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

interface Edge {
  from: string;
  to: string;
  /** One import that makes the edge: "src/eval/judge.ts:8: import { ... } from '../finetune/rouge.ts';". */
  site: string;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** The src folder a path lies in; null outside src/ or for a file directly in src/. */
function folderOf(path: string): string | null {
  const rel = relative(SRC, path);
  if (rel.startsWith('..') || !rel.includes(sep)) return null;
  return rel.split(sep)[0]!;
}

interface Import {
  file: string;
  /** The imported path, resolved. */
  target: string;
  site: string;
}

/** Every relative import of every .ts file under src/, with its site ("src/eval/judge.ts:8: import ..."). */
function srcImports(): Import[] {
  return tsFiles(SRC)
    .sort()
    .flatMap((file) => {
      const text = readFileSync(file, 'utf8');
      const lines = text.split('\n');
      return ts
        .preProcessFile(text, true, true)
        .importedFiles.filter((ref) => ref.fileName.startsWith('.'))
        .map((ref) => {
          const line = text.slice(0, ref.pos).split('\n').length;
          return {
            file,
            target: resolve(dirname(file), ref.fileName),
            site: `${relative(join(SRC, '..'), file)}:${line}: ${lines[line - 1]!.trim()}`,
          };
        });
    });
}

/** The package's entry files: src/index.ts and every src/<folder>/index.ts that only entry files import. */
function entryFiles(imports: readonly Import[]): Set<string> {
  const candidates = new Set(
    tsFiles(SRC).filter((f) => relative(SRC, f) === 'index.ts' || /^[^/\\]+[/\\]index\.ts$/.test(relative(SRC, f))),
  );
  for (let changed = true; changed; ) {
    changed = false;
    for (const imp of imports) if (!candidates.has(imp.file) && candidates.delete(imp.target)) changed = true;
  }
  return candidates;
}

/** Every cross-folder import outside the entry files, keyed "from->to", with the first import site found. */
function folderEdges(): Map<string, Edge> {
  const imports = srcImports();
  const entries = entryFiles(imports);
  const edges = new Map<string, Edge>();
  for (const imp of imports) {
    const from = folderOf(imp.file);
    const to = folderOf(imp.target);
    if (from === null || to === null || to === from || entries.has(imp.file) || edges.has(`${from}->${to}`)) continue;
    edges.set(`${from}->${to}`, { from, to, site: imp.site });
  }
  return edges;
}

/** One cycle per strongly connected component of more than one folder (Tarjan), as its list of edges. */
function folderCycles(edges: Map<string, Edge>): Edge[][] {
  const out = new Map<string, string[]>();
  for (const e of edges.values()) out.set(e.from, [...(out.get(e.from) ?? []), e.to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of out.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) components.push(component);
    }
  };
  for (const v of [...out.keys()].sort()) if (!index.has(v)) visit(v);
  // In each component, the shortest path from its first folder back to itself (breadth-first, inside the component).
  return components.map((component) => {
    const members = new Set(component);
    const start = [...component].sort()[0]!;
    const prev = new Map<string, string>();
    const queue = [start];
    while (queue.length > 0) {
      const v = queue.shift()!;
      if (prev.has(start)) break;
      for (const w of out.get(v) ?? []) {
        if (!members.has(w) || prev.has(w)) continue;
        prev.set(w, v);
        queue.push(w);
      }
    }
    const path: Edge[] = [];
    let to = start;
    do {
      const from = prev.get(to)!;
      path.unshift(edges.get(`${from}->${to}`)!);
      to = from;
    } while (to !== start);
    return path;
  });
}

test('no src folder imports a folder that imports it back', () => {
  const cycles = folderCycles(folderEdges());
  const report = cycles.map((path) => {
    const names = [path[0]!.from, ...path.map((e) => e.to)].join(' -> ');
    const steps = path.map(
      (e, i) => `    ${e.from} -> ${e.to}${i === path.length - 1 ? ' (closes the cycle)' : ''}: ${e.site}`,
    );
    return [`  cycle ${names}`, ...steps].join('\n');
  });
  assert.equal(cycles.length, 0, `src folders that import each other:\n${report.join('\n')}`);
});

test('every src folder is placed in LAYERS and imports only the folders below it', () => {
  const folders = readdirSync(SRC)
    .filter((name) => statSync(join(SRC, name)).isDirectory())
    .sort();
  const layers: readonly string[] = LAYERS;
  const problems = [
    ...folders
      .filter((f) => !layers.includes(f))
      .map((f) => `src/${f} is not in LAYERS (test/layers.test.ts): place it`),
    ...layers.filter((f) => !folders.includes(f)).map((f) => `LAYERS names ${f}, which src/ does not have`),
    ...[...folderEdges().values()]
      .filter((e) => layers.includes(e.from) && layers.includes(e.to) && layers.indexOf(e.to) > layers.indexOf(e.from))
      .map((e) => `${e.from} imports ${e.to}, which LAYERS puts above it: ${e.site}`),
  ];
  assert.deepEqual(problems, [], `the layer order is broken:\n  ${problems.join('\n  ')}`);
});

test('the layer check sees a cycle and names the import that closes it', () => {
  const site = (from: string, to: string): Edge => ({ from, to, site: `src/${from}/x.ts:1: import '../${to}/y.ts';` });
  const edges = new Map<string, Edge>([
    ['eval->finetune', site('eval', 'finetune')],
    ['finetune->eval', site('finetune', 'eval')],
    ['finetune->tensor', site('finetune', 'tensor')],
  ]);
  const cycles = folderCycles(edges);
  assert.equal(cycles.length, 1);
  assert.deepEqual(
    cycles[0]!.map((e) => `${e.from}->${e.to}`),
    ['eval->finetune', 'finetune->eval'],
  );
});
