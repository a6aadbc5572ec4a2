/**
 * Path expansion for data sources: a file, a directory (walked recursively, in sorted order) or a simple glob
 * where `*` matches within one path segment, `**` matches any number of segments and `?` one character. Only
 * files with a known text extension (.txt, .md, .jsonl, each optionally .gz) are taken from directories.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { DataError } from './errors.ts';

const DATA_FILE = /\.(txt|md|jsonl)(\.gz)?$/i;

/** Whether a path holds glob syntax. */
export function isGlob(path: string): boolean {
  return /[*?]/.test(path);
}

/** Compiles a glob (forward slashes) to an anchored regular expression. */
export function globToRegex(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        // `**/` matches zero or more whole segments; a trailing `**` matches anything.
        if (glob[i + 2] === '/') {
          re += '(?:[^/]*/)*';
          i += 2;
        } else {
          re += '.*';
          i += 1;
        }
      } else {
        re += '[^/]*';
      }
    } else if (c === '?') {
      re += '[^/]';
    } else {
      re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`);
}

function walk(dir: string, out: string[]): void {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) walk(p, out);
    else if (st.isFile()) out.push(p);
  }
}

/** The files a source path names, sorted; an error naming the path when there are none. */
export function expandPath(path: string): string[] {
  const norm = path.split(sep).join('/');
  if (!isGlob(norm)) {
    if (!existsSync(path)) throw new DataError(`${path}: no such file or directory`);
    if (!statSync(path).isDirectory()) return [path];
    const all: string[] = [];
    walk(path, all);
    const files = all.filter((f) => DATA_FILE.test(f));
    if (files.length === 0)
      throw new DataError(`${path}: the directory holds no .txt, .md or .jsonl files (optionally .gz)`);
    return files;
  }
  // Walk from the longest directory prefix without glob syntax.
  const parts = norm.split('/');
  const firstGlob = parts.findIndex((p) => isGlob(p));
  const base = parts.slice(0, firstGlob).join('/') || (norm.startsWith('/') ? '/' : '.');
  if (!existsSync(base) || !statSync(base).isDirectory())
    throw new DataError(`${path}: the directory ${base} does not exist`);
  const re = globToRegex(norm.startsWith('./') ? norm.slice(2) : norm);
  const all: string[] = [];
  walk(base, all);
  const files = all.filter((f) => {
    const rel = f.split(sep).join('/');
    return re.test(rel.startsWith('./') ? rel.slice(2) : rel);
  });
  if (files.length === 0) throw new DataError(`${path}: the pattern matches no files`);
  return files;
}
