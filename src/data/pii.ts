/**
 * PII scrubbing: e-mail addresses, phone numbers and IPv4/IPv6 addresses are replaced with placeholders
 * (`<EMAIL>`, `<PHONE>`, `<IP_ADDRESS>`), and each replacement is counted per kind for the cleaning report.
 * Patterns favour precision: a phone number needs 7 to 15 digits in three or more separated groups (or a leading +
 * or an area code in parentheses), ISO dates, year ranges and version-like dotted numbers are left alone, and IP
 * candidates are validated with node:net.
 */
import { isIPv4, isIPv6 } from 'node:net';

export type PiiKind = 'email' | 'phone' | 'ipv4' | 'ipv6';

export const PII_PLACEHOLDER: Record<PiiKind, string> = {
  email: '<EMAIL>',
  phone: '<PHONE>',
  ipv4: '<IP_ADDRESS>',
  ipv6: '<IP_ADDRESS>',
};

const EMAIL =
  /(?<![\w.%+-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,62}[A-Za-z0-9_%+-])?@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])/g;
const IPV6 = /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])/g;
const IPV4 = /(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)/g;
const PHONE = /(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]\d{2,8}){1,4}(?![\w]|[.-]\d)/g;
const ISO_DATE = /^\d{4}-\d{1,2}-\d{1,2}$|^\d{1,2}[.-]\d{1,2}[.-]\d{2,4}$/;

export interface PiiResult {
  text: string;
  counts: Record<PiiKind, number>;
}

export function emptyPiiCounts(): Record<PiiKind, number> {
  return { email: 0, phone: 0, ipv4: 0, ipv6: 0 };
}

function isPhone(m: string): boolean {
  const digits = m.replace(/\D/g, '').length;
  if (digits < 7 || digits > 15) return false;
  if (ISO_DATE.test(m)) return false;
  const international = m.startsWith('+') || m.includes('(');
  // Without a + or an area code in parentheses: three or more short groups (555-123-4567), so year ranges
  // (2023-2026), short local numbers and 2023 1234567 are left alone.
  const groups = m.split(/[ .-]/);
  if (!international && (groups.length < 3 || groups.some((g) => g.length > 4))) return false;
  const separated = /[ .()-]/.test(m) || international;
  // A dotted run like 1.2.3.4 is more likely a version or a section number than a phone (but 555.123.4567 is one).
  if (/^\d+(\.\d+)+$/.test(m) && !/^\d{3}\.\d{3}\.\d{4}$/.test(m)) return false;
  return separated;
}

/** Replaces PII in `text` with placeholders and counts replacements per kind. */
export function scrubPii(text: string): PiiResult {
  const counts = emptyPiiCounts();
  let out = text.replace(EMAIL, () => {
    counts.email++;
    return PII_PLACEHOLDER.email;
  });
  out = out.replace(IPV6, (m) => {
    // A digit is required: scope operators such as a::b are valid IPv6 text but rarely addresses.
    if (!/\d/.test(m) || !isIPv6(m)) return m;
    counts.ipv6++;
    return PII_PLACEHOLDER.ipv6;
  });
  out = out.replace(IPV4, (m) => {
    if (!isIPv4(m)) return m;
    counts.ipv4++;
    return PII_PLACEHOLDER.ipv4;
  });
  out = out.replace(PHONE, (m) => {
    if (!isPhone(m)) return m;
    counts.phone++;
    return PII_PLACEHOLDER.phone;
  });
  return { text: out, counts };
}
