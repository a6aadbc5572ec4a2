/**
 * The studio's server-rendered runs page at `/`: a plain HTML table over the same summaries `GET /api/runs`
 * returns, one `<tr data-testid="run-row" data-run="<name>" data-status="<status>">` per run. Every piece of text
 * and every attribute value goes through `escapeHtml`, so a run named `<img src=x onerror=alert(1)>` shows as text.
 */
import type { RunSummary } from './runs.ts';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text safe inside HTML elements and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

function cell(v: string | number | null | undefined): string {
  return `<td>${v === null || v === undefined ? '' : escapeHtml(String(v))}</td>`;
}

/** The runs page; `query` (e.g. "?token=...") is appended to its links to the JSON API. */
export function runsPage(runsDir: string, runs: readonly RunSummary[], query = ''): string {
  const rows = runs.map((r) => {
    const api = `/api/runs/${encodeURIComponent(r.name)}${query}`;
    const steps = r.step === null ? '' : r.steps === null ? String(r.step) : `${r.step} / ${r.steps}`;
    return [
      `<tr data-testid="run-row" data-run="${escapeHtml(r.name)}" data-status="${escapeHtml(r.status)}">`,
      `<td><a href="${escapeHtml(api)}">${escapeHtml(r.name)}</a></td>`,
      `<td title="${escapeHtml(r.reason)}">${escapeHtml(r.status)}</td>`,
      cell(r.kind),
      cell(r.model),
      cell(steps),
      cell(r.startedAt),
      cell(r.updatedAt),
      '</tr>',
    ].join('');
  });
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>llmforge studio: runs</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 2em; }
table { border-collapse: collapse; }
th, td { text-align: left; padding: 4px 12px; border-bottom: 1px solid #ddd; }
</style>
</head>
<body>
<h1>Runs</h1>
<p>${escapeHtml(runsDir)}: ${runs.length} run${runs.length === 1 ? '' : 's'}. JSON: <a href="${escapeHtml(`/api/runs${query}`)}">/api/runs</a></p>
<table>
<thead><tr><th>run</th><th>status</th><th>kind</th><th>model</th><th>step</th><th>started</th><th>updated</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
</body>
</html>
`;
}
