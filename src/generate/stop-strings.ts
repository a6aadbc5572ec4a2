/**
 * Stop strings over streamed text: text is pushed piece by piece as tokens decode, and released only once it can
 * no longer be the start of a stop string, so a stop string split across tokens is still caught and never shown.
 * When one appears, the text before it is released and the stream is over; the stop string itself is dropped.
 */
import { UserError } from '../util/user-error.ts';

export interface StopPush {
  /** Text safe to show now (possibly ''). */
  text: string;
  /** A stop string was found; nothing more will be released. */
  stopped: boolean;
}

export class StopMatcher {
  private pending = '';
  private done = false;
  private readonly stops: readonly string[];

  constructor(stops: readonly string[]) {
    for (const [i, s] of stops.entries()) {
      if (typeof s !== 'string' || s.length === 0) {
        throw new UserError(`stop strings: entry ${i} is empty; a stop string needs at least one character`);
      }
    }
    this.stops = stops;
  }

  get stopped(): boolean {
    return this.done;
  }

  push(piece: string): StopPush {
    if (this.done) return { text: '', stopped: true };
    this.pending += piece;
    let at = -1;
    for (const s of this.stops) {
      const i = this.pending.indexOf(s);
      if (i >= 0 && (at < 0 || i < at)) at = i;
    }
    if (at >= 0) {
      const text = this.pending.slice(0, at);
      this.pending = '';
      this.done = true;
      return { text, stopped: true };
    }
    const hold = this.heldLength();
    const text = this.pending.slice(0, this.pending.length - hold);
    this.pending = this.pending.slice(this.pending.length - hold);
    return { text, stopped: false };
  }

  /** The text still held back (the stream ended without a stop string). */
  flush(): string {
    const text = this.done ? '' : this.pending;
    this.pending = '';
    return text;
  }

  /** Length of the longest suffix of the pending text that is a proper prefix of some stop string. */
  private heldLength(): number {
    let best = 0;
    for (const s of this.stops) {
      const max = Math.min(s.length - 1, this.pending.length);
      for (let n = max; n > best; n--) {
        if (this.pending.endsWith(s.slice(0, n))) {
          best = n;
          break;
        }
      }
    }
    return best;
  }
}
