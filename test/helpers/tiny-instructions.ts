/**
 * Synthetic Alpaca-style instruction and preference records for tests, standing in for the LLMs-from-scratch
 * files (those are in ../shared and used only by the data suite): `syntheticInstructions(n, seed)` returns `n`
 * records `{instruction, input, output, chosen, rejected}` with distinct prompts. Tasks alternate between ones with
 * an input (opposites, past tense, sums, sorting, plurals) and toy-world questions without one (capitals, animal
 * sounds); `chosen` is the polite, correct answer and `rejected` a rude or curt one, as in the real preference file.
 * The first record is always the opposite of "hot", whose answer ends in a quote: `The opposite of "hot" is "cold".`
 */
import { ANIMAL_SOUNDS, CAPITALS } from '../../src/data/toy-world.ts';
import { Rng } from '../../src/tensor/random.ts';

export interface InstructionRecord {
  instruction: string;
  input: string;
  output: string;
  chosen: string;
  rejected: string;
}

const OPPOSITES = [
  ['hot', 'cold'],
  ['big', 'small'],
  ['fast', 'slow'],
  ['happy', 'sad'],
  ['early', 'late'],
  ['light', 'dark'],
  ['open', 'closed'],
  ['full', 'empty'],
  ['old', 'young'],
  ['rich', 'poor'],
  ['hard', 'soft'],
  ['wet', 'dry'],
] as const;
const PAST = [
  ['She walks to school.', 'She walked to school.'],
  ['They play chess.', 'They played chess.'],
  ['He cooks dinner.', 'He cooked dinner.'],
  ['We watch the rain.', 'We watched the rain.'],
  ['I paint the door.', 'I painted the door.'],
  ['The dog barks at night.', 'The dog barked at night.'],
  ['You clean the kitchen.', 'You cleaned the kitchen.'],
] as const;
const WORDS = ['pear', 'apple', 'fig', 'melon', 'grape', 'kiwi', 'lime', 'plum', 'date', 'cherry'];
const PLURALS = [
  ['box', 'boxes'],
  ['city', 'cities'],
  ['mouse', 'mice'],
  ['leaf', 'leaves'],
  ['child', 'children'],
  ['bus', 'buses'],
  ['tooth', 'teeth'],
  ['knife', 'knives'],
  ['story', 'stories'],
  ['foot', 'feet'],
] as const;
const RUDE = ['Ugh, obviously. ', 'Figure it out yourself. ', 'What a silly question. ', 'Fine, whatever. '];
const CURT = ['No idea.', 'Look it up.', 'Not my problem.', 'Who cares?'];

type Task = (rng: Rng) => { instruction: string; input: string; output: string };
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)]!;

const TASKS: Task[] = [
  (rng) => {
    const [a, b] = pick(rng, OPPOSITES);
    return { instruction: 'Give the opposite of the word.', input: a, output: `The opposite of "${a}" is "${b}".` };
  },
  (rng) => {
    const c = pick(rng, CAPITALS);
    return {
      instruction: `What is the capital of ${c.country}?`,
      input: '',
      output: `The capital of ${c.country} is ${c.capital}.`,
    };
  },
  (rng) => {
    const [a, b] = pick(rng, PAST);
    return { instruction: 'Rewrite the sentence in the past tense.', input: a, output: b };
  },
  (rng) => {
    const x = 2 + rng.int(60);
    const y = 2 + rng.int(60);
    return { instruction: 'Add the two numbers.', input: `${x} and ${y}`, output: `${x} plus ${y} is ${x + y}.` };
  },
  (rng) => {
    const a = pick(rng, ANIMAL_SOUNDS);
    return { instruction: `What sound does a ${a.animal} make?`, input: '', output: `A ${a.animal} says ${a.sound}.` };
  },
  (rng) => {
    const words = [...new Set(Array.from({ length: 3 + rng.int(3) }, () => pick(rng, WORDS)))];
    return {
      instruction: 'Sort the words in alphabetical order.',
      input: words.join(', '),
      output: `${[...words].sort().join(', ')}.`,
    };
  },
  (rng) => {
    const [a, b] = pick(rng, PLURALS);
    return { instruction: 'Write the plural form of the noun.', input: a, output: `The plural of "${a}" is "${b}".` };
  },
];

/** `n` records with distinct (instruction, input) prompts from a seeded generator (n up to a few hundred). */
export function syntheticInstructions(n: number, seed = 1): InstructionRecord[] {
  const rng = new Rng(seed);
  const seen = new Set<string>();
  const out: InstructionRecord[] = [
    {
      instruction: 'Give the opposite of the word.',
      input: 'hot',
      output: 'The opposite of "hot" is "cold".',
      chosen: '',
      rejected: '',
    },
  ];
  seen.add(`${out[0]!.instruction}\n${out[0]!.input}`);
  for (let i = 1, tries = 0; out.length < n; i++, tries++) {
    if (tries > 100 * n) throw new RangeError(`syntheticInstructions: cannot make ${n} distinct prompts`);
    const r = TASKS[i % TASKS.length]!(rng);
    const key = `${r.instruction}\n${r.input}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ ...r, chosen: '', rejected: '' });
  }
  for (const r of out.slice(0, n)) {
    r.chosen = r.output;
    r.rejected = rng.random() < 0.5 ? `${pick(rng, RUDE)}${r.output}` : pick(rng, CURT);
  }
  return out.slice(0, n);
}

/** Only the instruction fields (`instruction`, `input`, `output`), as in an instruction-tuning file. */
export function instructionOnly(
  records: readonly InstructionRecord[],
): { instruction: string; input: string; output: string }[] {
  return records.map(({ instruction, input, output }) => ({ instruction, input, output }));
}
