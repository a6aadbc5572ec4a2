/**
 * A temporary record file for the multi-pass data preparation: byte records appended through a write buffer, then
 * read back in order (chunked, so memory stays bounded) or one at a time by offset. Cleaned document text and
 * per-source token streams are spooled here between passes instead of being held in memory.
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';

export class Spool {
  private readonly fd: number;
  private buf = Buffer.alloc(1 << 20);
  private fill = 0;
  private closed = false;
  /** Bytes appended so far (record headers included). */
  size = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w+');
  }

  private flush(): void {
    let off = 0;
    while (off < this.fill) off += writeSync(this.fd, this.buf, off, this.fill - off, this.size - this.fill + off);
    this.fill = 0;
  }

  /** Appends raw bytes; returns their offset. */
  write(bytes: Uint8Array): number {
    const at = this.size;
    if (this.fill + bytes.length > this.buf.length) this.flush();
    if (bytes.length > this.buf.length) {
      let off = 0;
      while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off, at + off);
      this.size += bytes.length;
      return at;
    }
    this.buf.set(bytes, this.fill);
    this.fill += bytes.length;
    this.size += bytes.length;
    return at;
  }

  /** Appends a length-prefixed record. */
  append(bytes: Uint8Array): void {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(bytes.length, 0);
    this.write(len);
    this.write(bytes);
  }

  /** Reads `length` bytes at `offset` (after everything written so far is flushed). */
  readAt(offset: number, length: number, into?: Buffer): Buffer {
    if (this.fill > 0) this.flush();
    const out = into && into.length >= length ? into : Buffer.alloc(length);
    let got = 0;
    while (got < length) {
      const r = readSync(this.fd, out, got, length - got, offset + got);
      if (r === 0) throw new Error(`${this.path}: unexpected end of spool file`);
      got += r;
    }
    return out;
  }

  /** The length-prefixed records in order. */
  *records(): Generator<Buffer> {
    if (this.fill > 0) this.flush();
    let pos = 0;
    const head = Buffer.alloc(4);
    while (pos < this.size) {
      this.readAt(pos, 4, head);
      const len = head.readUInt32LE(0);
      yield this.readAt(pos + 4, len);
      pos += 4 + len;
    }
  }

  /** Closes the file (idempotent). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}
