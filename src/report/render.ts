/**
 * Renders a ReportCard (card.ts) as Markdown or as one self-contained HTML file: no scripts, no outside resources,
 * the loss curves drawn as inline SVG line charts. Every piece of text from the run (its name, prompts, samples,
 * labels, tokens) is escaped, so a sample holding `<img src=x onerror=...>` shows as those characters. In the HTML
 * each figure is an element with `data-testid="report-metric"`, `data-key` (the metric's stable key) and
 * `data-value` (the value exactly as read, numbers unrounded), the hook the browser tests and any script use.
 */
import type { ReportCard, ReportChart, ReportMetric, ReportStage } from './card.ts';

/** Escapes text for HTML element content and double-quoted attributes. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Escapes text for Markdown inline content and table cells: `&` and `<` (no HTML), Markdown punctuation, line breaks. */
export function escapeMarkdown(s: string): string {
  return s
    .replace(/[&<]/g, (c) => (c === '&' ? '&amp;' : '&lt;'))
    .replace(/[\\`*_[\]|#~!]/g, (c) => `\\${c}`)
    .replace(/^>/, '\\>')
    .replace(/\r?\n/g, ' ⏎ ');
}

function sig(x: number): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e5 || a < 1e-3) return x.toExponential(3);
  return Number(x.toPrecision(4)).toString();
}

function seconds(s: number): string {
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${Math.round(s - 60 * m)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** A metric's value for people (plain text, not escaped). */
export function formatMetric(m: ReportMetric): string {
  if (typeof m.value === 'string') return JSON.stringify(m.value);
  const v = m.value;
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
  switch (m.kind) {
    case 'percent':
      return `${pct(v)}${m.interval ? ` (95% CI ${pct(m.interval.low)}–${pct(m.interval.high)})` : ''}`;
    case 'seconds':
      return seconds(v);
    case 'count':
      return Number.isInteger(v) ? v.toLocaleString('en-US') : sig(v);
    default:
      return `${sig(v)}${m.interval ? ` (95% CI ${sig(m.interval.low)}–${sig(m.interval.high)})` : ''}`;
  }
}

function stageHeading(s: ReportStage): string {
  const status = s.status === 'complete' ? '' : s.status === 'started' ? ' — not finished' : ' — not run';
  return `${s.name} (${s.type})${status}`;
}

// ---------------------------------------------------------------------------------------------------------- Markdown

export function renderMarkdown(card: ReportCard): string {
  const md = escapeMarkdown;
  const out: string[] = [`# Report card: ${md(card.name)}`, ''];
  const about = [
    card.recipe !== null ? `recipe ${md(card.recipe)}` : null,
    card.seed !== null ? `seed ${card.seed}` : null,
    `run directory ${md(card.dir)}`,
  ].filter((x) => x !== null);
  if (card.description) out.push(md(card.description), '');
  out.push(`${about.join(', ')}.`, '');
  for (const s of card.stages) {
    out.push(`## ${md(stageHeading(s))}`, '');
    if (s.metrics.length > 0) {
      out.push('| figure | value | key |', '| --- | --- | --- |');
      for (const m of s.metrics) out.push(`| ${md(m.label)} | ${md(formatMetric(m))} | ${md(m.key)} |`);
      out.push('');
    }
    for (const c of s.charts) {
      const last = c.series.map((x) => {
        const p = x.points[x.points.length - 1]!;
        return `${md(x.name)} ${sig(p[1])} at step ${p[0]} (${x.points.length} points)`;
      });
      out.push(`${md(c.title)} (${md(c.source)}): ${last.join('; ')}.`, '');
    }
    for (const c of s.confusion) {
      out.push(`Confusion matrix (${md(c.split)}; rows: true label, columns: predicted):`, '');
      out.push(`| true \\\\ predicted | ${c.labels.map(md).join(' | ')} |`);
      out.push(`| --- |${c.labels.map(() => ' ---: |').join('')}`);
      c.rows.forEach((row, i) => {
        out.push(`| ${md(c.labels[i] ?? String(i))} | ${row.join(' | ')} |`);
      });
      out.push('');
    }
    for (const p of s.predictions) {
      const top = p.top.map((t) => `${md(JSON.stringify(t.token))} ${(100 * t.prob).toFixed(1)}%`).join(', ');
      out.push(`- ${md(JSON.stringify(p.prompt))} → ${top}`);
    }
    if (s.predictions.length > 0) out.push('');
    if (s.samples.length > 0) {
      out.push('| prompt | text | expected | from |', '| --- | --- | --- | --- |');
      for (const x of s.samples)
        out.push(`| ${md(x.prompt)} | ${md(x.text)} | ${md(x.expected ?? '')} | ${md(x.note ?? '')} |`);
      out.push('');
    }
    if (s.metrics.length + s.charts.length + s.samples.length + s.predictions.length === 0)
      out.push('No figures recorded.', '');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

// -------------------------------------------------------------------------------------------------------------- HTML

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];

/** An inline SVG line chart of a chart's series (linear axes, 4 ticks each, a legend). */
export function svgChart(c: ReportChart, width = 560, height = 260): string {
  const pad = { l: 56, r: 12, t: 24, b: 32 };
  const pts = c.series.flatMap((s) => s.points);
  let [x0, x1] = [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))];
  let [y0, y1] = [Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1]))];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const w = width - pad.l - pad.r;
  const h = height - pad.t - pad.b;
  const X = (x: number): string => (pad.l + ((x - x0) / (x1 - x0)) * w).toFixed(1);
  const Y = (y: number): string => (pad.t + h - ((y - y0) / (y1 - y0)) * h).toFixed(1);
  const ticks = [0, 1, 2, 3, 4];
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(c.title)}">`,
    `<rect x="${pad.l}" y="${pad.t}" width="${w}" height="${h}" fill="#fff" stroke="#ccc"/>`,
    ...ticks.map((i) => {
      const y = y0 + ((y1 - y0) * i) / 4;
      return `<line x1="${pad.l}" x2="${pad.l + w}" y1="${Y(y)}" y2="${Y(y)}" stroke="#eee"/><text x="${pad.l - 4}" y="${Y(y)}" text-anchor="end" dominant-baseline="middle" font-size="10">${escapeHtml(sig(y))}</text>`;
    }),
    ...ticks.map((i) => {
      const x = x0 + ((x1 - x0) * i) / 4;
      return `<text x="${X(x)}" y="${pad.t + h + 14}" text-anchor="middle" font-size="10">${escapeHtml(sig(Math.round(x)))}</text>`;
    }),
    `<text x="${pad.l + w / 2}" y="${height - 4}" text-anchor="middle" font-size="11">step</text>`,
    ...c.series.map((s, i) => {
      const color = COLORS[i % COLORS.length]!;
      const line = s.points.map((p) => `${X(p[0])},${Y(p[1])}`).join(' ');
      const dots =
        s.points.length <= 40
          ? s.points.map((p) => `<circle cx="${X(p[0])}" cy="${Y(p[1])}" r="2" fill="${color}"/>`)
          : [];
      return [`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${line}"/>`, ...dots].join('');
    }),
    ...c.series.map(
      (s, i) =>
        `<rect x="${pad.l + 8 + i * 120}" y="6" width="10" height="10" fill="${COLORS[i % COLORS.length]!}"/><text x="${pad.l + 22 + i * 120}" y="15" font-size="11">${escapeHtml(s.name)}</text>`,
    ),
    '</svg>',
  ];
  return parts.join('');
}

const STYLE = `body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}.key{color:#888;font-size:.85em}
.sample{white-space:pre-wrap}.muted{color:#888}figure{margin:1em 0}figcaption{font-size:.9em;color:#555}`;

export function renderHtml(card: ReportCard): string {
  const e = escapeHtml;
  const body: string[] = [`<h1>Report card: ${e(card.name)}</h1>`];
  if (card.description) body.push(`<p>${e(card.description)}</p>`);
  body.push(
    `<p class="muted">${[
      card.recipe !== null ? `recipe ${e(card.recipe)}` : null,
      card.seed !== null ? `seed ${card.seed}` : null,
      `run directory ${e(card.dir)}`,
    ]
      .filter((x) => x !== null)
      .join(', ')}</p>`,
  );
  for (const s of card.stages) {
    body.push(
      `<section data-testid="report-stage" data-stage="${e(s.name)}" data-status="${s.status}"><h2>${e(stageHeading(s))}</h2>`,
    );
    if (s.metrics.length > 0) {
      body.push('<table><tr><th>figure</th><th>value</th><th>key</th></tr>');
      for (const m of s.metrics)
        body.push(
          `<tr data-testid="report-metric" data-key="${e(m.key)}" data-value="${e(String(m.value))}"><td>${e(m.label)}</td><td class="num">${e(formatMetric(m))}</td><td class="key">${e(m.key)}</td></tr>`,
        );
      body.push('</table>');
    }
    for (const c of s.charts)
      body.push(
        `<figure data-testid="report-chart" data-key="${e(c.key)}">${svgChart(c)}<figcaption>${e(c.title)} (${e(c.source)})</figcaption></figure>`,
      );
    for (const c of s.confusion) {
      body.push(
        `<p>Confusion matrix (${e(c.split)}; rows: true label, columns: predicted)</p><table><tr><th>true \\ predicted</th>${c.labels.map((l) => `<th>${e(l)}</th>`).join('')}</tr>`,
      );
      c.rows.forEach((row, i) => {
        body.push(
          `<tr><th>${e(c.labels[i] ?? String(i))}</th>${row.map((x) => `<td class="num">${x}</td>`).join('')}</tr>`,
        );
      });
      body.push('</table>');
    }
    if (s.predictions.length > 0) {
      body.push('<table><tr><th>prompt</th><th>next tokens</th></tr>');
      for (const p of s.predictions)
        body.push(
          `<tr><td class="sample">${e(p.prompt)}</td><td>${p.top.map((t) => `${e(JSON.stringify(t.token))} ${(100 * t.prob).toFixed(1)}%`).join('<br>')}</td></tr>`,
        );
      body.push('</table>');
    }
    if (s.samples.length > 0) {
      body.push('<table><tr><th>prompt</th><th>text</th><th>expected</th><th>from</th></tr>');
      for (const x of s.samples)
        body.push(
          `<tr data-testid="report-sample"><td class="sample">${e(x.prompt)}</td><td class="sample">${e(x.text)}</td><td class="sample">${e(x.expected ?? '')}</td><td class="muted">${e(x.note ?? '')}</td></tr>`,
        );
      body.push('</table>');
    }
    if (s.metrics.length + s.charts.length + s.samples.length + s.predictions.length === 0)
      body.push('<p class="muted">No figures recorded.</p>');
    body.push('</section>');
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Report card: ${e(card.name)}</title><style>${STYLE}</style></head>
<body>
${body.join('\n')}
</body></html>
`;
}
