/**
 * Instruction-tuning data about the toy world (src/data/toy-world.ts): every fact asked as a question in several
 * phrasings, each with its one-sentence answer ("What is the capital of Peru?" -> "The capital of Peru is Lima.").
 * The training phrasings and the held-out phrasings are disjoint, so scoring a tuned model on the held-out set
 * measures whether it follows instructions it never saw worded that way, not whether it recalls training records;
 * the answers restate facts the pretraining corpus already teaches. Records come as Alpaca objects
 * (`instruction`, `output`) or chat objects (`messages`), in an order shuffled by the seed (deterministic).
 */
import { Rng, shuffleInPlace } from '../tensor/random.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import {
  ANIMAL_SOUNDS,
  CAPITALS,
  SUN_FACTS,
  THING_COLOURS,
  type AnimalFact,
  type CapitalFact,
  type ColourFact,
  type ProbeKind,
  type SunFact,
} from './toy-world.ts';

export interface ToyInstruction {
  kind: ProbeKind;
  /** The question. */
  instruction: string;
  /** The expected answer, one sentence. */
  output: string;
  /** True when the question's phrasing is one of the held-out ones. */
  heldOut: boolean;
}

export type InstructionFormat = 'alpaca' | 'chat';
export const INSTRUCTION_FORMATS: readonly InstructionFormat[] = ['alpaca', 'chat'];

type Ask<F> = (f: F) => string;
interface Phrasings<F> {
  answer: (f: F) => string;
  trained: readonly Ask<F>[];
  heldOut: readonly Ask<F>[];
}

const rise = (f: SunFact): string => (f.verb === 'rises' ? 'rise' : 'set');

const CAPITAL: Phrasings<CapitalFact> = {
  answer: (f) => `The capital of ${f.country} is ${f.capital}.`,
  trained: [
    (f) => `What is the capital of ${f.country}?`,
    (f) => `Name the capital of ${f.country}.`,
    (f) => `Tell me the capital city of ${f.country}.`,
    (f) => `Which city is the capital of ${f.country}?`,
  ],
  heldOut: [(f) => `Do you know the capital of ${f.country}?`, (f) => `What city is ${f.country}'s capital?`],
};
const SOUND: Phrasings<AnimalFact> = {
  answer: (f) => `The ${f.animal} says ${f.sound}.`,
  trained: [
    (f) => `What does the ${f.animal} say?`,
    (f) => `What sound does a ${f.animal} make?`,
    (f) => `Tell me the sound of the ${f.animal}.`,
  ],
  heldOut: [(f) => `Do you know what the ${f.animal} says?`],
};
const COLOUR: Phrasings<ColourFact> = {
  answer: (f) => `The ${f.thing} is ${f.colour}.`,
  trained: [
    (f) => `What colour is the ${f.thing}?`,
    (f) => `Tell me the colour of the ${f.thing}.`,
    (f) => `Which colour does the ${f.thing} have?`,
  ],
  heldOut: [(f) => `Do you know the colour of the ${f.thing}?`],
};
const SUN: Phrasings<SunFact> = {
  answer: (f) => `The sun ${f.verb} in the ${f.direction}.`,
  trained: [
    (f) => `Where does the sun ${rise(f)}?`,
    (f) => `Tell me where the sun ${f.verb}.`,
    (f) => `In which direction does the sun ${rise(f)}?`,
  ],
  heldOut: [(f) => `Do you know where the sun ${f.verb}?`],
};

function expand<F>(kind: ProbeKind, facts: readonly F[], p: Phrasings<F>, heldOut: boolean): ToyInstruction[] {
  const asks = heldOut ? p.heldOut : p.trained;
  return facts.flatMap((f) => asks.map((ask) => ({ kind, instruction: ask(f), output: p.answer(f), heldOut })));
}

/**
 * Every toy-world fact in every training phrasing (`train`, 216 records) and in every held-out phrasing (`heldOut`,
 * 92 records), each list shuffled by `seed`.
 */
export function toyInstructions(seed = 0): { train: ToyInstruction[]; heldOut: ToyInstruction[] } {
  const all = (heldOut: boolean): ToyInstruction[] => [
    ...expand('capital', CAPITALS, CAPITAL, heldOut),
    ...expand('sound', ANIMAL_SOUNDS, SOUND, heldOut),
    ...expand('colour', THING_COLOURS, COLOUR, heldOut),
    ...expand('sun', SUN_FACTS, SUN, heldOut),
  ];
  const rng = new Rng(seed);
  return { train: shuffleInPlace(all(false), rng), heldOut: shuffleInPlace(all(true), rng) };
}

/** One record as a file holds it: Alpaca (`instruction`, `input`, `output`) or chat (`messages`). */
export function instructionRecord(r: ToyInstruction, format: InstructionFormat): Record<string, unknown> {
  if (format === 'alpaca') return { instruction: r.instruction, input: '', output: r.output };
  return {
    messages: [
      { role: 'user', content: r.instruction },
      { role: 'assistant', content: r.output },
    ],
  };
}

/** Writes records as JSONL (one object per line) atomically; returns the number written. */
export function writeInstructions(path: string, records: readonly ToyInstruction[], format: InstructionFormat): number {
  writeFileAtomic(
    path,
    Buffer.from(records.map((r) => `${JSON.stringify(instructionRecord(r, format))}\n`).join(''), 'utf8'),
  );
  return records.length;
}
