/**
 * Bounds on rendering an untrusted Jinja chat template (a model's `chat_template` is data from a download): a
 * render may take at most `timeMs` of wall time, `range()` may ask for at most `maxRangeItems` items, and no string
 * it builds or outputs may pass `maxChars` characters. `{% for i in range(20000000) %}{% endfor %}` thus fails in
 * well under a second with one line saying which bound it hit, instead of taking 14 s and 2 GB while a server stops
 * answering. @huggingface/jinja has no hooks for this, so `withTemplateBudget` installs, once, thin wrappers on its
 * Interpreter (each expression evaluated, each loop iteration, each block rendered) and on the `range` global; the
 * wrappers do nothing unless a budgeted render is running (renders are synchronous, so one active budget at a time).
 */
import { Environment, Interpreter } from '@huggingface/jinja';

export interface TemplateBudget {
  /** Wall-clock limit of one render (default 1000 ms). */
  timeMs: number;
  /** Largest `range(...)` a template may build (default 100,000 items). */
  maxRangeItems: number;
  /** Largest string a template may build or output (default 16 Mi characters). */
  maxChars: number;
}

export const DEFAULT_TEMPLATE_BUDGET: Readonly<TemplateBudget> = {
  timeMs: 1000,
  maxRangeItems: 100_000,
  maxChars: 16 * 2 ** 20,
};

/** A render that went over its budget (the caller names the template). */
export class TemplateBudgetError extends Error {}

interface Active {
  budget: TemplateBudget;
  deadline: number;
  ticks: number;
}

let active: Active | null = null;

function tick(): void {
  const a = active;
  if (a === null || (++a.ticks & 1023) !== 0) return;
  if (performance.now() > a.deadline)
    throw new TemplateBudgetError(`it ran longer than ${a.budget.timeMs} ms, the limit for one render`);
}

function checkString(value: unknown): void {
  const a = active;
  if (a !== null && typeof value === 'string' && value.length > a.budget.maxChars)
    throw new TemplateBudgetError(
      `it built a string of ${value.length} characters, more than the ${a.budget.maxChars} allowed`,
    );
}

/** `range` as Jinja defines it, refusing more than the active budget's items before building them. */
function boundedRange(inner: (...args: number[]) => unknown): (...args: number[]) => unknown {
  return (...args: number[]) => {
    const a = active;
    if (a !== null) {
      const [start, stop, step = 1] = args.length < 2 ? [0, args[0]!] : args;
      const n = step === 0 ? 0 : Math.ceil((stop! - start!) / step);
      if (!Number.isFinite(n) || n > a.budget.maxRangeItems)
        throw new TemplateBudgetError(
          `range(${args.join(', ')}) asks for ${n} items, more than the ${a.budget.maxRangeItems} a chat template may use`,
        );
    }
    return inner(...args);
  };
}

let installed = false;

/** Wraps the interpreter methods every render goes through (once per process). */
function install(): void {
  if (installed) return;
  installed = true;
  type Method = (this: unknown, ...args: unknown[]) => unknown;
  const interp = Interpreter.prototype as unknown as Record<string, Method>;
  for (const name of ['evaluate', 'bindLoopVariable', 'renderBlock']) {
    const original = interp[name];
    if (typeof original !== 'function') continue; // a newer library: the deadline still holds through the others
    interp[name] = function (this: unknown, ...args: unknown[]) {
      tick();
      const out = original.apply(this, args);
      if (active !== null) checkString(typeof out === 'string' ? out : (out as { value?: unknown } | null)?.value);
      return out;
    };
  }
  const env = Environment.prototype as unknown as Record<string, Method>;
  const set = env.set!;
  env.set = function (this: unknown, name: unknown, value: unknown) {
    const v =
      name === 'range' && typeof value === 'function' ? boundedRange(value as (...a: number[]) => unknown) : value;
    return set.call(this, name, v);
  };
}

/** Runs `render` (a synchronous template render) under `budget`; a breach throws TemplateBudgetError. */
export function withTemplateBudget<T>(render: () => T, budget: TemplateBudget = DEFAULT_TEMPLATE_BUDGET): T {
  install();
  const outer = active;
  active = { budget, deadline: performance.now() + budget.timeMs, ticks: 0 };
  try {
    return render();
  } finally {
    active = outer;
  }
}
