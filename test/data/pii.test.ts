/** PII scrubbing as a table: input text -> scrubbed text and replacement counts per kind; look-alikes are kept. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scrubPii, type PiiKind } from '../../src/data/pii.ts';

const CASES: [string, string, Partial<Record<PiiKind, number>>][] = [
  ['mail john.doe+news@mail.example.co.uk today', 'mail <EMAIL> today', { email: 1 }],
  ['a@b.io, c_d@e-f.org.', '<EMAIL>, <EMAIL>.', { email: 2 }],
  ['call +1 (555) 123-4567 or 555-123-4567', 'call <PHONE> or <PHONE>', { phone: 2 }],
  ['London: +44 20 7946 0958.', 'London: <PHONE>.', { phone: 1 }],
  ['dial 555.123.4567 now', 'dial <PHONE> now', { phone: 1 }],
  ['server 192.168.1.10 and 10.0.0.1:8080', 'server <IP_ADDRESS> and <IP_ADDRESS>:8080', { ipv4: 2 }],
  ['v6 2001:db8::8a2e:370:7334 and ::1 here', 'v6 <IP_ADDRESS> and <IP_ADDRESS> here', { ipv6: 2 }],
  ['full 2001:0db8:85a3:0000:0000:8a2e:0370:7334.', 'full <IP_ADDRESS>.', { ipv6: 1 }],
  ['all: x@y.com, 8.8.8.8, +49 30 1234567', 'all: <EMAIL>, <IP_ADDRESS>, <PHONE>', { email: 1, ipv4: 1, phone: 1 }],
  // Look-alikes that are not PII.
  ['on 2024-01-15 at 12:30:45 in 1999', 'on 2024-01-15 at 12:30:45 in 1999', {}],
  ['std::vector<int> and a::b', 'std::vector<int> and a::b', {}],
  [
    'not an ip 300.1.1.1, a price 1,234,567 and order 1234567890',
    'not an ip 300.1.1.1, a price 1,234,567 and order 1234567890',
    {},
  ],
  ['the year 2023 had 365 days', 'the year 2023 had 365 days', {}],
  ['Copyright 2023-2026, pages 1200-1350', 'Copyright 2023-2026, pages 1200-1350', {}],
  ['twitter @handle and user@localhost', 'twitter @handle and user@localhost', {}],
];

test('scrubPii: placeholders and counts per kind', () => {
  for (const [input, expected, counts] of CASES) {
    const r = scrubPii(input);
    assert.equal(r.text, expected, input);
    assert.deepEqual(r.counts, { email: 0, phone: 0, ipv4: 0, ipv6: 0, ...counts }, input);
  }
});
