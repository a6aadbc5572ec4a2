/**
 * Stop strings over streamed pieces, as a table: pieces pushed -> text released per push, whether it stopped, and
 * what flush releases. A stop string split across pieces is caught and never released; text that only looked like
 * the start of one is released once it cannot be.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StopMatcher } from '../../src/generate/stop-strings.ts';
import { UserError } from '../../src/util/user-error.ts';

const cases: { stops: string[]; pieces: string[]; released: string[]; stopped: boolean; flushed: string }[] = [
  {
    stops: ['\n\n'],
    pieces: ['Hello', '\n', 'world'],
    released: ['Hello', '', '\nworld'],
    stopped: false,
    flushed: '',
  },
  { stops: ['\n\n'], pieces: ['Hi', '\n', '\nmore'], released: ['Hi', '', ''], stopped: true, flushed: '' },
  { stops: ['STOP'], pieces: ['abcSTOPdef'], released: ['abc'], stopped: true, flushed: '' },
  { stops: ['STOP', 'END'], pieces: ['x END y STOP'], released: ['x '], stopped: true, flushed: '' },
  { stops: ['STOP'], pieces: ['aS', 'T', 'OP', 'more'], released: ['a', '', ''], stopped: true, flushed: '' },
  { stops: ['STOP'], pieces: ['abST'], released: ['ab'], stopped: false, flushed: 'ST' },
  { stops: ['aab'], pieces: ['aa', 'a', 'b'], released: ['', 'a', ''], stopped: true, flushed: '' },
  {
    stops: ['User:'],
    pieces: ['Sure.', ' Us', 'ually'],
    released: ['Sure.', ' ', 'Usually'],
    stopped: false,
    flushed: '',
  },
];

test('stop strings: released text, stop flag and flush per case', () => {
  for (const [i, c] of cases.entries()) {
    const m = new StopMatcher(c.stops);
    const released: string[] = [];
    let stopped = false;
    for (const piece of c.pieces) {
      if (stopped) break;
      const r = m.push(piece);
      released.push(r.text);
      stopped = r.stopped;
    }
    assert.deepEqual(released, c.released, `case ${i}`);
    assert.equal(stopped, c.stopped, `case ${i}`);
    assert.equal(m.stopped, c.stopped, `case ${i}`);
    assert.equal(m.flush(), c.flushed, `case ${i}`);
  }
});

test('after a stop nothing more is released; an empty stop string is a user error', () => {
  const m = new StopMatcher(['.']);
  assert.deepEqual(m.push('end. after'), { text: 'end', stopped: true });
  assert.deepEqual(m.push('more'), { text: '', stopped: true });
  assert.throws(
    () => new StopMatcher(['ok', '']),
    (e: Error) => /entry 1 is empty/.test(e.message) && e instanceof UserError,
  );
});
