/**
 * The safetensors reader and writer: a file of F32, F16 and BF16 tensors (one larger than the read chunk) written
 * by the streaming writer reads back the same through the streaming reader and the in-memory parser; reading one
 * tensor touches only the header and that tensor's byte range (bytesRead); F16/BF16 conversion rounds to nearest
 * even and keeps representable values exact; truncated or malformed files, and tensors whose byte ranges overlap,
 * leave gaps or stop short of the end, are errors naming the file and the tensors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeInto, floatToBf16, floatToHalf } from '../../src/io/dtypes.ts';
import {
  parseSafetensors,
  READ_CHUNK_BYTES,
  readSafetensors,
  SafetensorsReader,
  serializeSafetensors,
  writeSafetensors,
} from '../../src/io/safetensors.ts';
import { Rng } from '../../src/tensor/random.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { UserError } from '../../src/util/user-error.ts';

const dir = tempDir('st');

function randomArray(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

test('F16/BF16 conversion: representable values exact, ties to even, specials kept', () => {
  const back = new Float32Array(1);
  for (const x of [0, 1, -2, 0.5, 65504, 2 ** -24, -(2 ** -14), 1.5, 3 * 2 ** -20]) {
    decodeInto('F16', Uint8Array.of(floatToHalf(x) & 0xff, floatToHalf(x) >> 8), 1, back, 0);
    assert.equal(back[0], x, `F16 ${x}`);
  }
  for (const x of [0, 1, -2, 0.5, 1.5, 2 ** -24, -(2 ** -14), 3 * 2 ** -20, 3.0625, 2 ** 100]) {
    decodeInto('BF16', Uint8Array.of(floatToBf16(x) & 0xff, floatToBf16(x) >> 8), 1, back, 0);
    assert.equal(back[0], x, `BF16 ${x}`);
  }
  assert.equal(floatToHalf(1), 0x3c00);
  assert.equal(floatToHalf(65504), 0x7bff);
  assert.equal(floatToHalf(65520), 0x7c00, 'rounds up to infinity');
  assert.equal(floatToHalf(2 ** -24), 0x0001, 'smallest subnormal');
  assert.equal(floatToHalf(1 + 2 ** -11), 0x3c00, 'tie goes to even');
  assert.equal(floatToHalf(1 + 3 * 2 ** -11), 0x3c02, 'tie goes to even (up)');
  assert.equal(floatToHalf(Number.NaN) & 0x7c00, 0x7c00);
  assert.equal(floatToBf16(1), 0x3f80);
  assert.equal(floatToBf16(1 + 2 ** -8), 0x3f80, 'tie goes to even');
  assert.equal(floatToBf16(1 + 3 * 2 ** -8), 0x3f82);
  assert.equal(floatToBf16(-Infinity), 0xff80);
});

test('streamed write and read of F32/F16/BF16 tensors; one tensor read touches only its byte range', () => {
  const big = randomArray((READ_CHUNK_BYTES >> 1) + 12345, 1); // as F16: more than one read chunk
  const small = randomArray(7 * 5, 2);
  const bf = randomArray(300, 3);
  const path = join(dir, 'mixed.safetensors');
  writeSafetensors(
    path,
    [
      { name: 'small', shape: [7, 5], data: small },
      { name: 'big.f16', shape: [big.length], data: big, dtype: 'F16' },
      { name: 'bf', shape: [3, 100], data: bf, dtype: 'BF16' },
    ],
    { note: 'hi' },
  );
  const reader = SafetensorsReader.open(path);
  try {
    assert.deepEqual([...reader.tensors.keys()], ['small', 'big.f16', 'bf']);
    assert.equal(reader.metadata.note, 'hi');
    const header = reader.bytesRead;
    assert.ok(header < 400, 'opening reads only the header');
    const got = reader.read('bf');
    assert.equal(reader.bytesRead, header + 600, "only the BF16 tensor's 600 bytes were read");
    for (let i = 0; i < bf.length; i++) assert.ok(Math.abs(got[i]! - bf[i]!) <= Math.abs(bf[i]!) * 2 ** -8);
    const halves = reader.read('big.f16');
    assert.equal(reader.bytesRead, header + 600 + 2 * big.length);
    for (let i = 0; i < big.length; i += 997)
      assert.ok(Math.abs(halves[i]! - big[i]!) <= Math.abs(big[i]!) * 2 ** -11 + 2 ** -24);
    const dest = new Float32Array(35);
    reader.readInto('small', dest);
    assert.deepEqual(dest, small, 'F32 is exact');
    assert.throws(() => reader.read('nope'), /mixed\.safetensors: tensor "nope" is missing/);
    assert.throws(() => reader.readInto('small', new Float32Array(3)), /has 35 elements, the destination 3/);
  } finally {
    reader.close();
  }
  // The whole-file readers agree with the streamed one.
  const all = readSafetensors(path);
  const mem = parseSafetensors(readFileSync(path), path);
  for (const name of ['small', 'big.f16', 'bf'])
    assert.deepEqual(all.tensors.get(name)!.data, mem.tensors.get(name)!.data);
  assert.equal(all.tensors.get('big.f16')!.dtype, 'F16');
});

test('serializeSafetensors (in memory) and writeSafetensors (streamed) produce identical F32 files', () => {
  const a = randomArray(12, 4);
  const b = randomArray(5, 5);
  const path = join(dir, 'same.safetensors');
  writeSafetensors(
    path,
    [
      { name: 'a', shape: [3, 4], data: a },
      { name: 'b', shape: [5], data: b },
    ],
    { format: 'pt' },
  );
  const mem = serializeSafetensors(
    [
      ['a', { shape: [3, 4], data: a }],
      ['b', { shape: [5], data: b }],
    ],
    { format: 'pt' },
  );
  assert.ok(Buffer.from(mem).equals(readFileSync(path)));
  const headerLen = Number(Buffer.from(mem).readBigUInt64LE(0));
  assert.equal((8 + headerLen) % 8, 0, 'data section 8-byte aligned');
});

test('truncated and malformed files are errors naming the file and the tensor', () => {
  const path = join(dir, 'trunc.safetensors');
  writeSafetensors(path, [{ name: 'w', shape: [100], data: randomArray(100, 6) }]);
  truncateSync(path, statSync(path).size - 10);
  assert.throws(
    () => SafetensorsReader.open(path),
    /trunc\.safetensors: tensor "w": data_offsets \[0, 400\] do not hold 100 F32 values within the file/,
  );
  const bad = join(dir, 'int.safetensors');
  const json = Buffer.from(JSON.stringify({ ids: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(bad, Buffer.concat([len, json, Buffer.alloc(8)]));
  assert.throws(
    () => readSafetensors(bad),
    (e: Error) =>
      e instanceof UserError &&
      /int\.safetensors: tensor "ids": dtype I64 is not supported \(expected F32, F16 or BF16\)/.test(e.message),
  );
  assert.throws(
    () => readSafetensors(join(dir, 'absent.safetensors')),
    /absent\.safetensors: cannot read file \(ENOENT\)/,
  );
});

/** A safetensors file with the given header entries and `dataBytes` of data (F32 values 0, 1, 2, ...). */
function rawFile(name: string, entries: Record<string, [number, number]>, dataBytes: number): string {
  const header: Record<string, unknown> = {};
  for (const [t, [b, e]] of Object.entries(entries))
    header[t] = { dtype: 'F32', shape: [(e - b) / 4], data_offsets: [b, e] };
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const data = Buffer.from(Float32Array.from({ length: dataBytes / 4 }, (_, i) => i).buffer);
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([len, json, data]));
  return path;
}

test('overlapping, gapped or trailing tensor ranges are refused, naming the file and both tensors', () => {
  const cases: [string, Record<string, [number, number]>, number, RegExp][] = [
    [
      'overlap.safetensors',
      { a: [0, 16], b: [8, 24] },
      24,
      /overlap\.safetensors: tensors "a" \[0, 16\] and "b" \[8, 24\] overlap/,
    ],
    [
      'same.safetensors',
      { a: [0, 16], b: [0, 16] },
      16,
      /same\.safetensors: tensors "a" \[0, 16\] and "b" \[0, 16\] overlap/,
    ],
    [
      'gap.safetensors',
      { a: [0, 8], b: [16, 24] },
      24,
      /gap\.safetensors: 8 unused bytes between tensors "a" \[0, 8\] and "b" \[16, 24\]/,
    ],
    ['lead.safetensors', { a: [8, 16] }, 16, /lead\.safetensors: 8 unused bytes before the first tensor "a" \[8, 16\]/],
    [
      'tail.safetensors',
      { a: [0, 8] },
      16,
      /tail\.safetensors: 8 bytes after the last tensor "a" \[0, 8\] belong to no tensor/,
    ],
  ];
  for (const [name, entries, bytes, want] of cases) {
    const path = rawFile(name, entries, bytes);
    for (const read of [() => SafetensorsReader.open(path), () => parseSafetensors(readFileSync(path), path)])
      assert.throws(read, (e: Error) => e instanceof UserError && want.test(e.message) && !e.message.includes('\n'));
  }
  // Out of header order but contiguous is what the reference accepts too.
  const ok = readSafetensors(rawFile('reordered.safetensors', { b: [8, 16], a: [0, 8] }, 16));
  assert.deepEqual([...ok.tensors.get('a')!.data], [0, 1]);
  assert.deepEqual([...ok.tensors.get('b')!.data], [2, 3]);
});
