/**
 * A synthetic stand-in for the SMS Spam Collection in tests (the real file is in ../shared and used only by the data
 * suite): `syntheticSms(n, seed)` returns `n` lines `label<TAB>text` in the real file's format, about one in six
 * labelled spam. Ham messages are casual lower-case chat built from random parts (plans, times, names, some with
 * quotes, digits or an HTML entity as in the real file); spam messages are prize, offer and premium-number texts
 * with capitals, £ amounts, long numbers and short codes. The two classes are easy to tell apart by their
 * characters, so a tiny random character-level model can learn them in a few epochs.
 */
import { Rng } from '../../src/tensor/random.ts';

const NAMES = ['tom', 'ana', 'mum', 'dad', 'jo', 'sam', 'kate', 'ben', 'lily', 'raj'];
const PLACES = ['the station', 'home', 'the pub', 'work', 'uni', 'the shop', 'the gym', 'town', 'the park', 'class'];
const TIMES = ['at 7', 'in 10 mins', 'tonight', 'tomorrow', 'after lunch', 'later', 'soon', 'by 6', 'on sunday', 'now'];
const HAM: ((parts: string[]) => string)[] = [
  ([, p, t]) => `ok, see you at ${p} ${t}`,
  ([n, p, t]) => `sorry ${n}, running late. be at ${p} ${t}`,
  ([n]) => `haha that's so funny, did ${n} tell you?`,
  ([n, , t]) => `can you call ${n} ${t}? i lost my phone charger`,
  ([, p]) => `i'm at ${p}, do you want anything?`,
  ([n, , t]) => `did you finish the essay for ${t}? ${n} says it's long`,
  ([, p, t]) => `going to ${p} ${t} &lt;#&gt; want to come`,
  ([n]) => `"love you too" she said lol. tell ${n} i said hi`,
  ([, , t]) => `no worries, we can do it ${t}. sleep well x`,
  ([n, p]) => `${n} is picking me up from ${p}, thanks anyway`,
  ([, p, t]) => `hey, got the tickets. meet ${t} near ${p}?`,
  ([n]) => `yeah ${n} knows, i told her this morning`,
];

const PRIZES = [
  '£1000 cash',
  '£500 prize',
  'a FREE holiday',
  'a new mobile',
  '£250 voucher',
  '2 FREE tickets',
  '£2000 award',
];
const SPAM: ((parts: string[]) => string)[] = [
  ([p, num, code]) => `WINNER!! You have won ${p}. Call ${num} NOW to claim. Code ${code}. T&Cs apply`,
  ([p, num]) => `URGENT! Your mobile No. was selected for ${p}! Call ${num} from a landline. Valid 12hrs`,
  ([p, , code]) => `FREE entry to win ${p}! Txt WIN to 87121 now. Claim code ${code}. 18+ only`,
  ([p, num]) => `Congratulations! You are awarded ${p}. To claim call ${num}. 150p/min`,
  ([, num, code]) => `Your account ${code} has a FREE upgrade waiting. Reply YES or call ${num} TODAY`,
  ([p, num]) => `SIX chances to win ${p}! Send GO to 80086 or call ${num}. Stop? txt STOP`,
  ([p, , code]) => `PRIVATE! Your 2024 statement shows ${p} unclaimed. Call 0906${code.slice(-4)} NOW`,
];

/** `n` labelled lines (`ham<TAB>text` / `spam<TAB>text`), about one in six spam, from a seeded generator. */
export function syntheticSms(n: number, seed = 1): string[] {
  const rng = new Rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)]!;
  const digits = (k: number): string => Array.from({ length: k }, () => String(rng.int(10))).join('');
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    if (rng.random() < 1 / 6) {
      const text = pick(SPAM)([
        pick(PRIZES),
        `0906${digits(7)}`,
        `${String.fromCharCode(65 + rng.int(26))}${String.fromCharCode(65 + rng.int(26))}${digits(3)}`,
      ]);
      lines.push(`spam\t${text}`);
    } else {
      const text = pick(HAM)([pick(NAMES), pick(PLACES), pick(TIMES)]);
      lines.push(`ham\t${rng.random() < 0.3 ? text[0]!.toUpperCase() + text.slice(1) : text}`);
    }
  }
  return lines;
}
