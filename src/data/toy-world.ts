/**
 * The "toy world": a small procedural corpus that llmforge generates itself, so the lifecycle demo needs no
 * download. Its facts are fixed tables (real countries and capitals, animals and their sounds, the colours of
 * things, where the sun rises and sets) and its documents are built from a fixed grammar: fact paragraphs that
 * phrase each fact several ways, Q/A dialogues and short stories. Generation is seeded and deterministic, and facts
 * are drawn from shuffled decks, so every fact appears about equally often. `toyWorldProbes` gives prompts with
 * their expected next word for checking what a model learned, in the trained phrasings and in held-out phrasings
 * that never occur in the corpus.
 */
import { Rng, shuffled } from '../tensor/random.ts';
import { writeFileAtomic } from '../util/atomic.ts';

export interface CapitalFact {
  country: string;
  capital: string;
}
export interface AnimalFact {
  animal: string;
  sound: string;
}
export interface ColourFact {
  thing: string;
  colour: string;
}
export interface SunFact {
  /** What the sun does ("rises"). */
  verb: string;
  direction: string;
}

export const CAPITALS: readonly CapitalFact[] = [
  ['France', 'Paris'],
  ['Italy', 'Rome'],
  ['Japan', 'Tokyo'],
  ['Germany', 'Berlin'],
  ['Spain', 'Madrid'],
  ['Portugal', 'Lisbon'],
  ['Egypt', 'Cairo'],
  ['Greece', 'Athens'],
  ['Russia', 'Moscow'],
  ['China', 'Beijing'],
  ['Canada', 'Ottawa'],
  ['Peru', 'Lima'],
  ['Kenya', 'Nairobi'],
  ['Norway', 'Oslo'],
  ['Sweden', 'Stockholm'],
  ['Finland', 'Helsinki'],
  ['Denmark', 'Copenhagen'],
  ['Poland', 'Warsaw'],
  ['Austria', 'Vienna'],
  ['Hungary', 'Budapest'],
  ['Ireland', 'Dublin'],
  ['Belgium', 'Brussels'],
  ['Turkey', 'Ankara'],
  ['Thailand', 'Bangkok'],
  ['Vietnam', 'Hanoi'],
  ['Cuba', 'Havana'],
  ['Australia', 'Canberra'],
  ['Morocco', 'Rabat'],
  ['Iran', 'Tehran'],
  ['Chile', 'Santiago'],
].map(([country, capital]) => ({ country: country!, capital: capital! }));

export const ANIMAL_SOUNDS: readonly AnimalFact[] = [
  ['cat', 'meow'],
  ['dog', 'woof'],
  ['cow', 'moo'],
  ['duck', 'quack'],
  ['sheep', 'baa'],
  ['pig', 'oink'],
  ['horse', 'neigh'],
  ['lion', 'roar'],
  ['owl', 'hoot'],
  ['frog', 'croak'],
  ['bee', 'buzz'],
  ['snake', 'hiss'],
  ['mouse', 'squeak'],
  ['donkey', 'bray'],
  ['wolf', 'howl'],
  ['crow', 'caw'],
].map(([animal, sound]) => ({ animal: animal!, sound: sound! }));

export const THING_COLOURS: readonly ColourFact[] = [
  ['sky', 'blue'],
  ['grass', 'green'],
  ['snow', 'white'],
  ['banana', 'yellow'],
  ['tomato', 'red'],
  ['coal', 'black'],
  ['carrot', 'orange'],
  ['milk', 'white'],
  ['lemon', 'yellow'],
  ['leaf', 'green'],
  ['strawberry', 'red'],
  ['sea', 'blue'],
  ['chocolate', 'brown'],
  ['plum', 'purple'],
].map(([thing, colour]) => ({ thing: thing!, colour: colour! }));

export const SUN_FACTS: readonly SunFact[] = [
  { verb: 'rises', direction: 'east' },
  { verb: 'sets', direction: 'west' },
];

/** Every fact table, for demos and tests. */
export const TOY_WORLD = {
  capitals: CAPITALS,
  animals: ANIMAL_SOUNDS,
  colours: THING_COLOURS,
  sun: SUN_FACTS,
} as const;

export type ProbeKind = 'capital' | 'sound' | 'colour' | 'sun';

export interface FactProbe {
  kind: ProbeKind;
  /** Text that ends right before the answer (no trailing space). */
  prompt: string;
  /** The expected next word (it follows the prompt after one space). */
  answer: string;
  /** True when the phrasing never occurs in the generated corpus. */
  heldOut: boolean;
}

// Trained phrasings: each is a sentence with the answer as its last word, so `prompt` is the sentence up to it.
const CAPITAL_PHRASINGS: readonly ((f: CapitalFact) => [string, string])[] = [
  (f) => [`The capital of ${f.country} is`, f.capital],
  (f) => [`${f.capital} is the capital of`, f.country],
  (f) => [`The capital city of ${f.country} is`, f.capital],
  (f) => [`In ${f.country}, the capital is`, f.capital],
  (f) => [`We all know that the capital of ${f.country} is`, f.capital],
];
const SOUND_PHRASINGS: readonly ((f: AnimalFact) => [string, string])[] = [
  (f) => [`The ${f.animal} says`, f.sound],
  (f) => [`A ${f.animal} goes`, f.sound],
  (f) => [`The sound of the ${f.animal} is`, f.sound],
  (f) => [`We all know that the ${f.animal} says`, f.sound],
];
const COLOUR_PHRASINGS: readonly ((f: ColourFact) => [string, string])[] = [
  (f) => [`The ${f.thing} is`, f.colour],
  (f) => [`The colour of the ${f.thing} is`, f.colour],
  (f) => [`We all know that the ${f.thing} is`, f.colour],
];
const SUN_PHRASINGS: readonly ((f: SunFact) => [string, string])[] = [
  (f) => [`The sun ${f.verb} in the`, f.direction],
  (f) => [`Every day the sun ${f.verb} in the`, f.direction],
  (f) => [`We all know that the sun ${f.verb} in the`, f.direction],
];

// Held-out phrasings: used only by probes, never by the generator. "Everyone knows that" is an unseen prefix before
// a trained lowercase clause ("We all know that the capital of ..." is trained); the question form is harder.
const HELD_OUT: {
  capital: readonly ((f: CapitalFact) => string)[];
  sound: readonly ((f: AnimalFact) => string)[];
  colour: readonly ((f: ColourFact) => string)[];
  sun: readonly ((f: SunFact) => string)[];
} = {
  capital: [
    (f) => `Everyone knows that the capital of ${f.country} is`,
    (f) => `Which city is the capital of ${f.country}? It is`,
  ],
  sound: [(f) => `Everyone knows that the ${f.animal} says`],
  colour: [(f) => `Everyone knows that the ${f.thing} is`],
  sun: [(f) => `Everyone knows that the sun ${f.verb} in the`],
};

/** Prompts with expected answers: every fact in every trained phrasing, plus the held-out phrasings. */
export function toyWorldProbes(opts: { heldOut?: boolean } = {}): FactProbe[] {
  const out: FactProbe[] = [];
  const add = <F>(
    kind: ProbeKind,
    facts: readonly F[],
    trained: readonly ((f: F) => [string, string])[],
    held: readonly ((f: F) => string)[],
  ) => {
    for (const f of facts) {
      const answer = trained[0]!(f)[1];
      if (opts.heldOut !== true)
        for (const p of trained) {
          const [prompt, a] = p(f);
          out.push({ kind, prompt, answer: a, heldOut: false });
        }
      if (opts.heldOut !== false) for (const h of held) out.push({ kind, prompt: h(f), answer, heldOut: true });
    }
  };
  add('capital', CAPITALS, CAPITAL_PHRASINGS, HELD_OUT.capital);
  add('sound', ANIMAL_SOUNDS, SOUND_PHRASINGS, HELD_OUT.sound);
  add('colour', THING_COLOURS, COLOUR_PHRASINGS, HELD_OUT.colour);
  add('sun', SUN_FACTS, SUN_PHRASINGS, HELD_OUT.sun);
  return out;
}

/** Draws items without replacement, reshuffling when empty: every item comes up equally often. */
class Deck<T> {
  private order: T[] = [];
  constructor(
    private readonly items: readonly T[],
    private readonly rng: Rng,
  ) {}
  draw(): T {
    if (this.order.length === 0) {
      this.order = shuffled(this.items, this.rng);
    }
    return this.order.pop()!;
  }
}

export interface ToyWorldOptions {
  /** Number of documents (default 4000: about 150k words, 750 kB). */
  documents?: number;
  /** Seed of the generator (default 0). */
  seed?: number;
}

const sentence = ([prompt, answer]: [string, string]): string => `${prompt} ${answer}.`;
const article = (word: string): string => (/^[aeiou]/.test(word) ? 'an' : 'a');
const cap = (s: string): string => s[0]!.toUpperCase() + s.slice(1);

class ToyWorldWriter {
  private readonly rng: Rng;
  private readonly capitals: Deck<CapitalFact>;
  private readonly animals: Deck<AnimalFact>;
  private readonly colours: Deck<ColourFact>;
  private readonly suns: Deck<SunFact>;
  private readonly capitalPhrasings: Deck<(f: CapitalFact) => [string, string]>;
  private readonly soundPhrasings: Deck<(f: AnimalFact) => [string, string]>;
  private readonly colourPhrasings: Deck<(f: ColourFact) => [string, string]>;
  private readonly sunPhrasings: Deck<(f: SunFact) => [string, string]>;

  constructor(seed: number) {
    this.rng = new Rng(seed);
    this.capitals = new Deck(CAPITALS, this.rng);
    this.animals = new Deck(ANIMAL_SOUNDS, this.rng);
    this.colours = new Deck(THING_COLOURS, this.rng);
    this.suns = new Deck(SUN_FACTS, this.rng);
    this.capitalPhrasings = new Deck(CAPITAL_PHRASINGS, this.rng);
    this.soundPhrasings = new Deck(SOUND_PHRASINGS, this.rng);
    this.colourPhrasings = new Deck(COLOUR_PHRASINGS, this.rng);
    this.sunPhrasings = new Deck(SUN_PHRASINGS, this.rng);
  }

  document(): string {
    const r = this.rng.random();
    if (r < 0.4) return this.facts();
    if (r < 0.7) return this.dialogue();
    return this.story();
  }

  private fact(): string {
    const r = this.rng.random();
    if (r < 0.5) return sentence(this.capitalPhrasings.draw()(this.capitals.draw()));
    if (r < 0.75) return sentence(this.soundPhrasings.draw()(this.animals.draw()));
    if (r < 0.93) return sentence(this.colourPhrasings.draw()(this.colours.draw()));
    return sentence(this.sunPhrasings.draw()(this.suns.draw()));
  }

  /** A paragraph of 3 to 6 facts. */
  private facts(): string {
    const n = 3 + this.rng.int(4);
    return Array.from({ length: n }, () => this.fact()).join(' ');
  }

  private qa(): string {
    const r = this.rng.random();
    if (r < 0.5) {
      const f = this.capitals.draw();
      return `Q: What is the capital of ${f.country}?\nA: The capital of ${f.country} is ${f.capital}.`;
    }
    if (r < 0.75) {
      const f = this.animals.draw();
      return `Q: What does the ${f.animal} say?\nA: The ${f.animal} says ${f.sound}.`;
    }
    if (r < 0.93) {
      const f = this.colours.draw();
      return `Q: What colour is the ${f.thing}?\nA: The ${f.thing} is ${f.colour}.`;
    }
    const f = this.suns.draw();
    return `Q: Where does the sun ${f.verb === 'rises' ? 'rise' : 'set'}?\nA: The sun ${f.verb} in the ${f.direction}.`;
  }

  /** One to three question/answer pairs. */
  private dialogue(): string {
    const n = 1 + this.rng.int(3);
    return Array.from({ length: n }, () => this.qa()).join('\n');
  }

  /** A short story with a fixed grammar that restates facts of the world. */
  private story(): string {
    const a = this.animals.draw();
    const c = this.capitals.draw();
    const t = this.colours.draw();
    const little = ['little', 'small', 'happy', 'clever'][this.rng.int(4)]!;
    const parts = [
      `Once upon a time, ${article(little)} ${little} ${a.animal} lived in ${c.capital}, the capital of ${c.country}.`,
      `Every morning the ${a.animal} said ${a.sound}.`,
    ];
    if (this.rng.random() < 0.5) parts.push(`The sun rises in the east, so the ${a.animal} woke up early.`);
    parts.push(`One day the ${a.animal} saw the ${t.thing}. The ${t.thing} was ${t.colour}.`);
    if (this.rng.random() < 0.5) {
      const friend = this.animals.draw();
      if (friend.animal !== a.animal) {
        parts.push(`${cap(article(friend.animal))} ${friend.animal} came by and said ${friend.sound}.`);
      }
    }
    parts.push(`In the evening the sun sets in the west, and the ${a.animal} went to sleep in ${c.capital}. The end.`);
    return parts.join(' ');
  }
}

/** Generates the corpus: one string per document (dialogue turns are separated by "\n"). */
export function generateToyWorld(opts: ToyWorldOptions = {}): string[] {
  const documents = opts.documents ?? 4000;
  if (!Number.isInteger(documents) || documents < 1)
    throw new RangeError(`generateToyWorld: documents must be a positive integer, received ${documents}`);
  const w = new ToyWorldWriter(opts.seed ?? 0);
  return Array.from({ length: documents }, () => w.document());
}

export interface ToyWorldFileReport {
  path: string;
  documents: number;
  bytes: number;
}

/**
 * Writes the corpus to `path` atomically: `.jsonl` gives one `{"text": ...}` object per line (documents intact);
 * any other extension gives plain text with one document per line (a dialogue's turns joined by a space).
 */
export function writeToyWorld(path: string, opts: ToyWorldOptions = {}): ToyWorldFileReport {
  const docs = generateToyWorld(opts);
  const body = path.endsWith('.jsonl')
    ? docs.map((text) => JSON.stringify({ text })).join('\n')
    : docs.map((d) => d.replace(/\n/g, ' ')).join('\n');
  const data = Buffer.from(`${body}\n`, 'utf8');
  writeFileAtomic(path, data);
  return { path, documents: docs.length, bytes: data.length };
}
