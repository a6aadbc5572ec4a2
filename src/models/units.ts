/**
 * Human-readable numbers for model reports (`llmforge info`, `llmforge estimate`): counts with thousands
 * separators or SI suffixes, bytes in binary units, FLOPs and FLOP/s with SI prefixes, and durations from
 * seconds up to years; and counts read back from that form (parseCount: "175B").
 */

/** 124439808 -> "124,439,808". */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** 124439808 -> "124.4M"; 1.75e11 -> "175.0B". */
export function formatShort(n: number): string {
  const a = Math.abs(n);
  if (a >= 1e12) return `${(n / 1e12).toFixed(1)}T`;
  if (a >= 1e9) return `${(n / 1e9).toFixed(1)}B`;
  if (a >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (a >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return String(Math.round(n));
}

const COUNT_SUFFIX: Record<string, number> = { k: 1e3, m: 1e6, b: 1e9, g: 1e9, t: 1e12 };

/**
 * A count as people write it, the inverse of formatShort: "175B" -> 1.75e11, "1.5M", "300e9", "2k"; K, M, B (or G)
 * and T suffixes in either case, `_` or `,` between digit groups. Undefined when the text is not such a count.
 */
export function parseCount(text: string): number | undefined {
  const m = /^\s*([+-]?(?:\d[\d_,]*(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)\s*([kmbgt])?\s*$/i.exec(text);
  if (!m) return undefined;
  const v = Number(m[1]!.replace(/[_,]/g, '')) * (m[2] ? COUNT_SUFFIX[m[2].toLowerCase()]! : 1);
  return Number.isFinite(v) ? v : undefined;
}

/** Bytes in KiB/MiB/GiB/TiB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

/** FLOPs with an SI prefix ("858.9 MFLOP"), or in scientific notation past peta ("3.15e+23 FLOP"). */
export function formatFlops(flops: number, unit = 'FLOP'): string {
  const prefixes: [number, string][] = [
    [1e15, 'P'],
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'K'],
  ];
  if (flops >= 1e18) return `${flops.toExponential(2)} ${unit}`;
  for (const [scale, p] of prefixes) if (flops >= scale) return `${(flops / scale).toFixed(1)} ${p}${unit}`;
  return `${flops.toFixed(0)} ${unit}`;
}

/** Seconds as "42 s", "3.5 h", "12.3 days" or "2.1 years". */
export function formatSeconds(s: number): string {
  if (s < 120) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 7200) return `${(s / 60).toFixed(1)} min`;
  if (s < 2 * 86400) return `${(s / 3600).toFixed(1)} h`;
  if (s < 365 * 86400) return `${(s / 86400).toFixed(1)} days`;
  return `${(s / (365 * 86400)).toFixed(1)} years`;
}
