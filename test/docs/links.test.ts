/**
 * Every relative link in the documentation resolves: README.md, CHANGELOG.md and docs/*.md are scanned for Markdown
 * links and images (`[text](target)`, `![alt](target)`, `[label]: target`) outside code blocks and inline code; each
 * target that is not a URL must name an existing file or directory relative to the linking file, and an anchor into
 * a Markdown file (`page.md#heading`, or `#heading` in the same file) must match one of that file's headings as
 * GitHub turns them into anchors. A failure lists every broken link with its file and line.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The documentation files: the README and changelog at the root, and every Markdown page under docs/. */
function docFiles(): string[] {
  const files = ['README.md', 'CHANGELOG.md'].map((f) => join(root, f)).filter((f) => existsSync(f));
  const docs = join(root, 'docs');
  if (existsSync(docs)) {
    for (const name of readdirSync(docs).sort()) if (name.endsWith('.md')) files.push(join(docs, name));
  }
  return files;
}

/** Each line of `text` with fenced code blocks blanked and inline code removed, so examples are not read as links. */
function proseLines(text: string): string[] {
  let fence: string | null = null;
  return text.split('\n').map((line) => {
    const m = /^\s*(`{3,}|~{3,})/.exec(line);
    if (m) {
      if (fence === null) fence = m[1][0];
      else if (m[1][0] === fence) fence = null;
      return '';
    }
    if (fence !== null) return '';
    return line.replace(/`+[^`]*`+/g, '');
  });
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2, ... */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fence = false;
  for (const line of text.split('\n')) {
    if (/^\s*(`{3,}|~{3,})/.test(line)) fence = !fence;
    const m = fence ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = m[1]
      .replace(/<[^>]*>/g, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Link targets on one prose line: inline links and images, and reference definitions. */
function targets(line: string): string[] {
  const found: string[] = [];
  for (const m of line.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) found.push(m[1]);
  const def = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$/.exec(line);
  if (def) found.push(def[1]);
  return found;
}

function isExternal(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(target);
}

test('every relative link in README.md, CHANGELOG.md and docs/*.md resolves', () => {
  const files = docFiles();
  assert.ok(
    files.some((f) => f.endsWith('README.md')),
    'README.md is missing',
  );
  const broken: string[] = [];
  let checked = 0;
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    proseLines(text).forEach((line, i) => {
      for (const target of targets(line)) {
        if (isExternal(target)) continue;
        checked++;
        const where = `${relative(root, file)}:${i + 1}: ${target}`;
        const [pathPart, anchor] = target.split('#', 2) as [string, string | undefined];
        const path = decodeURIComponent(pathPart.split('?')[0]);
        const resolved = path === '' ? file : resolve(dirname(file), path);
        if (!existsSync(resolved)) {
          broken.push(`${where} (no such file: ${relative(root, resolved)})`);
          continue;
        }
        if (anchor !== undefined && anchor !== '' && resolved.endsWith('.md')) {
          const known = anchors(readFileSync(resolved, 'utf8'));
          if (!known.has(decodeURIComponent(anchor).toLowerCase()))
            broken.push(`${where} (no heading #${anchor} in ${relative(root, resolved)})`);
        }
      }
    });
  }
  assert.ok(checked > 0, 'no relative links found: the scanner is broken');
  assert.deepEqual(broken, [], `broken documentation links:\n${broken.join('\n')}`);
});

test('the link scanner reads links, skips code and URLs, and knows GitHub anchors', () => {
  assert.deepEqual(targets('see [data](docs/data.md) and ![fig](img/a.png "t") and [x](https://example.com)'), [
    'docs/data.md',
    'img/a.png',
    'https://example.com',
  ]);
  assert.deepEqual(targets('[ref]: ../README.md'), ['../README.md']);
  assert.deepEqual(proseLines('a\n```\n[no](missing.md)\n```\n`[no](x.md)` [yes](y.md)'), [
    'a',
    '',
    '',
    '',
    ' [yes](y.md)',
  ]);
  assert.ok(isExternal('mailto:a@b.c') && isExternal('https://x') && !isExternal('docs/x.md'));
  const a = anchors('# Title\n## Domain adaptation: `llmforge finetune domain`\n```\n# not a heading\n```\n## Title');
  assert.deepEqual([...a], ['title', 'domain-adaptation-llmforge-finetune-domain', 'title-1']);
});
