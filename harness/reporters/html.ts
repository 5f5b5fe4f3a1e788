/**
 * index.html: the report an interop engineer reads. One self-contained file (inline CSS and
 * script, a Content-Security-Policy that forbids any network load): counts by outcome, a
 * requirement × test case matrix worst first, filters by outcome and ID, and per case its
 * purpose, verdicts with reasons and a ladder diagram of every SIP/MSRP message whose arrows
 * open to the exact bytes. Messages that decided a verdict are highlighted and linked from it.
 */
import { formatDiagnostic } from '../core/diagnostic.ts';
import { heldInCase, judgedInEveryCase } from '../verdict/requirements.ts';
import { OUTCOMES_WORST_FIRST, totals, type Outcome, type TestCaseResult, type Verdict } from '../verdict/verdict.ts';
import { headline } from './case-text.ts';
import { REPORT_CSS, REPORT_SCRIPT } from './html-assets.ts';
import { anchorId, escapeHtml, html, trusted, type Html } from './html-kit.ts';
import { buildLadder, type Ladder, type LadderRow } from './ladder.ts';
import { elidedText } from './trace-text.ts';
import { repeatText, reportFailed, strictFailures, worstFirst, type CaseReport, type RequirementInfo, type RunReport } from './run-report.ts';

export interface HtmlOptions {
  /** Link from the report to a case's pcap file (relative to index.html), when one was written. */
  pcapHref?: (c: CaseReport) => string | undefined;
  /** Bytes of one message shown inline; the rest is counted (results.json has everything). */
  maxBytesShown?: number;
}

const LABEL: Record<Outcome, string> = { pass: 'PASS', informative: 'INFO', inconclusive: 'INCONC', warning: 'WARN', fail: 'FAIL', error: 'ERROR', skipped: 'SKIP' };
const GLYPH: Record<Outcome, string> = { pass: '✓', informative: 'i', inconclusive: '?', warning: '!', fail: '✗', error: 'E', skipped: '–' };
const NOUN: Record<Outcome, string> = { pass: 'pass', informative: 'informative', inconclusive: 'inconclusive', warning: 'warning', fail: 'fail', error: 'error', skipped: 'skipped' };
const LANE_NAME: Record<string, string> = { sip: 'SIP', msrp: 'MSRP', ut: 'Upper tester' };

export function caseAnchor(id: string): string {
  return `case-${anchorId(id)}`;
}

export function eventAnchor(caseId: string, seq: number): string {
  return `ev-${anchorId(caseId)}-${seq}`;
}

function badge(outcome: Outcome): Html {
  return html`<span class="badge o-${outcome}">${LABEL[outcome]}</span>`;
}

function worst(outcomes: readonly Outcome[]): Outcome | undefined {
  return OUTCOMES_WORST_FIRST.find((o) => outcomes.includes(o));
}

function seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** Requirements worst first (over the whole run), then in catalogue order. */
function requirementColumns(report: RunReport): { info: RequirementInfo; outcome: Outcome | undefined }[] {
  const judged = (id: string): Outcome | undefined =>
    worst(report.cases.flatMap((c) => [...c.result.verdicts.filter((v) => v.requirement === id).map((v) => v.outcome), ...(heldInCase(c.result, id) ? ['pass' as const] : [])]));
  const known = new Set(report.meta.requirements.map((r) => r.id));
  const extra = [...new Set(report.cases.flatMap((c) => c.result.requirements))].filter((id) => !known.has(id)).map((id): RequirementInfo => ({ id, level: 'SHALL', title: id }));
  // A harness requirement (`wire`) is declared by no case: the runner judges it in every one.
  const all = [...report.meta.requirements, ...extra].filter((r) => report.cases.some((c) => c.result.requirements.includes(r.id)) || (judgedInEveryCase(r.id) && report.cases.length > 0));
  const rank = (o: Outcome | undefined): number => (o === undefined ? OUTCOMES_WORST_FIRST.length : OUTCOMES_WORST_FIRST.indexOf(o));
  return all.map((info, index) => ({ info, outcome: judged(info.id), index })).sort((a, b) => rank(a.outcome) - rank(b.outcome) || a.index - b.index);
}

function header(report: RunReport): Html {
  const m = report.meta;
  const failed = reportFailed(report);
  const t = totals(report.cases.map((c) => c.result));
  const bad = OUTCOMES_WORST_FIRST.filter((o) => ['error', 'fail', 'inconclusive'].includes(o) && t[o] > 0).map((o) => `${t[o]} ${NOUN[o]}`);
  const strictCount = strictFailures(report);
  if (strictCount > 0) bad.push(`${strictCount} warning${strictCount === 1 ? '' : 's'} (strict)`);
  const meta: [string, string, string?][] = [
    ['client', m.client],
    ['transport', m.transport],
    ['started', m.startedAt],
    ['wall time', seconds(m.wallMs)],
    ['harness', m.version],
    ['config', m.configDigest.slice(0, 19) + '…', m.configDigest],
    ['strict', m.strict ? 'yes: warnings fail the run' : 'no'],
  ];
  if (m.repeat > 1) meta.push(['repeat', `${m.repeat} runs per case`]);
  if (m.shard) meta.push(['shard', `${m.shard.index}/${m.shard.count} (${report.cases.length} of ${m.selected} cases)`]);
  if (m.mergedFrom) meta.push(['merged from', `${m.mergedFrom.length} reports`, m.mergedFrom.join('\n')]);
  if (m.interrupted) meta.push(['interrupted', m.interrupted]);
  return html`<header class="top">
<h1>cpm-harness <small>OMA CPM 2.1 §7.3.12 deferred delivery of CPM Group Session messages</small></h1>
<span class="run-verdict ${failed ? 'failed' : 'passed'}" id="run-verdict">${failed ? `Run failed: ${bad.join(', ')}` : 'Run passed'}</span>
<dl class="meta">${meta.map(([k, v, title]) => html`<div><dt>${k}</dt><dd${title ? html` title="${title}"` : ''}>${v}</dd></div>`)}</dl>
</header>`;
}

function summary(report: RunReport): Html {
  const t = totals(report.cases.map((c) => c.result));
  const strictCount = strictFailures(report);
  return html`<section aria-labelledby="h-summary">
<h2 id="h-summary">${t.total} test cases</h2>
<div class="summary">${OUTCOMES_WORST_FIRST.map(
    (o) => html`<button type="button" class="tile o-${o}${t[o] === 0 ? ' zero' : ''}" data-filter-outcome="${o}" aria-pressed="false" title="show only ${NOUN[o]} test cases (click again to clear)"><b>${t[o]}</b>${NOUN[o]}</button>`,
  )}</div>
${report.meta.strict ? html`<p class="strict-note">Strict mode: warnings fail the run${strictCount > 0 ? ` — ${strictCount} warning${strictCount === 1 ? '' : 's'} here` : ''}.</p>` : ''}
</section>`;
}

/** Every case that needs a look, worst first, one line each: what the terminal prints, linked. */
function attention(ordered: readonly CaseReport[], strict: boolean): Html {
  const flagged = ordered.filter((c) => !['pass', 'informative', 'skipped'].includes(c.result.outcome) || c.repeat?.flaky);
  if (flagged.length === 0) return html``;
  return html`<section aria-labelledby="h-attention" class="attention">
<h2 id="h-attention">Needs attention</h2>
<ul>${flagged.map(
    (c) => html`<li class="o-${c.result.outcome}">${badge(c.result.outcome)}${c.repeat?.flaky ? html` <span class="flaky">flaky</span>` : ''} <a href="#${caseAnchor(c.result.id)}">${c.result.id}</a> <span class="why">${headline(c.result)}${
      c.result.outcome === 'warning' && strict ? ' (fails the run: strict)' : ''
    }</span></li>`,
  )}</ul>
</section>`;
}

function filters(): Html {
  return html`<section class="filters" aria-label="filters">
<input id="filter-id" type="search" placeholder="filter by test case or requirement ID, e.g. 1b-ii" aria-label="filter by test case or requirement ID">
<button type="button" id="clear-filters">clear filters</button>
<span class="count" id="shown-count"></span>
</section>`;
}

function cellOf(c: CaseReport, requirement: string): Html {
  const r = c.result;
  if (!r.requirements.includes(requirement) && !judgedInEveryCase(requirement)) return html`<td class="cell"></td>`;
  const verdicts = r.verdicts.filter((v) => v.requirement === requirement);
  const href = `#${caseAnchor(r.id)}`;
  const o = worst(verdicts.map((v) => v.outcome));
  if (o === undefined && heldInCase(r, requirement)) {
    return html`<td class="cell o-pass"><a href="${href}" title="${requirement}: held (judged by the runner in every case: no wire fault)">${GLYPH.pass}</a></td>`;
  }
  if (o === undefined) {
    const why = r.outcome === 'skipped' || r.outcome === 'error' ? headline(r) : 'declared, no verdict';
    return html`<td class="cell declared"><a href="${href}" title="${requirement}: not judged (${why})">·</a></td>`;
  }
  const reasons = verdicts.map((v) => `${LABEL[v.outcome]} ${v.requirement}: ${v.reason}`).join('\n');
  return html`<td class="cell o-${o}"><a href="${href}" title="${reasons}">${GLYPH[o]}</a></td>`;
}

function dataIds(r: TestCaseResult): string {
  // The requirements a verdict names too: filtering by `wire` finds the cases a wire fault ended.
  return [...new Set([r.id, r.group, ...r.requirements, ...r.verdicts.map((v) => v.requirement)])].join(' ');
}

function matrix(report: RunReport, ordered: readonly CaseReport[]): Html {
  const columns = requirementColumns(report);
  return html`<section aria-labelledby="h-matrix">
<h2 id="h-matrix">Requirement × test case</h2>
<div class="matrix-wrap"><table class="matrix">
<thead><tr><th>outcome</th><th style="text-align:left">test case</th>${columns.map(
    (col) => html`<th class="req${col.outcome ? ` o-${col.outcome}` : ''}" title="${col.info.id} (${col.info.level}): ${col.info.title}${col.outcome ? ` — worst: ${NOUN[col.outcome]}` : ''}">${col.info.id}</th>`,
  )}</tr></thead>
<tbody>${ordered.map((c) => {
    const r = c.result;
    return html`<tr data-case-row="${r.id}" data-outcome="${r.outcome}" data-ids="${dataIds(r)}">
<td>${badge(r.outcome)}${c.repeat?.flaky ? html` <span class="flaky" title="${repeatText(c.repeat)}">flaky</span>` : ''}</td>
<td class="case-cell"><a href="#${caseAnchor(r.id)}">${r.id}</a><span class="title">${r.title}</span></td>
${columns.map((col) => cellOf(c, col.info.id))}</tr>`;
  })}</tbody>
</table></div>
<p class="empty" id="no-match" hidden>No test case matches the filters.</p>
</section>`;
}

const SHORT_ESCAPE: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** One line of wire bytes: printable Latin-1 as text, every control byte as a marked escape. */
function lineMarkup(line: string): Html {
  // eslint-disable-next-line no-control-regex
  return trusted(escapeHtml(line).replace(/[\x00-\x1f\x7f]/g, (c) => `<span class="esc">${SHORT_ESCAPE[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`}</span>`));
}

/** The exact bytes as lines: every CRLF ends a line (shown faintly); any other control byte is escaped and marked. */
function rawBytes(bytes: Buffer, max: number): Html {
  const lines = bytes.subarray(0, max).toString('latin1').split('\r\n');
  const parts = lines.map((line, i) => html`${lineMarkup(line)}${i < lines.length - 1 ? html`<span class="eol">\\r\\n</span>\n` : ''}`);
  const more = bytes.length > max ? html`\n<span class="eol">… ${bytes.length - max} more bytes (all of them are in results.json)</span>` : '';
  return html`<pre class="raw">${parts}${more}</pre>`;
}

function laneCell(row: LadderRow, protocol: string): Html {
  if (row.protocol !== protocol) return html`<span class="lane ${protocol}"></span>`;
  if (row.kind === 'connection') {
    const bad = /reset|error|timeout|garbage/.test(row.label);
    return html`<span class="lane ${protocol}"><span class="conn${bad ? ' bad' : ''}" title="${row.label}">${row.label}</span></span>`;
  }
  const arrowTitle = `${row.flow === 'to-client' ? 'sent by the harness' : 'received from the client'}: ${row.label}`;
  return html`<span class="lane ${protocol}"><span class="arrow ${row.flow}" title="${arrowTitle}"><span class="label">${row.label}</span></span></span>`;
}

function flags(row: LadderRow): Html {
  const diag = row.diagnostics.length > 0 ? html`<span class="diag" title="${row.diagnostics.map(formatDiagnostic).join('\n')}">⚠ ${row.diagnostics[0]!.code}${row.diagnostics.length > 1 ? ` +${row.diagnostics.length - 1}` : ''}</span> ` : '';
  const cited = row.cites.filter((c) => row.decisive === undefined || c.outcome === row.decisive);
  const cite = cited.length > 0 ? html`<span class="cite" title="${row.cites.map((c) => `${LABEL[c.outcome]} ${c.requirement}`).join('\n')}">${row.decisive ? '⚑ ' : '· '}${cited.map((c) => c.requirement).join(' ')}</span>` : '';
  return html`<span class="flags">${diag}${cite}</span>`;
}

/**
 * The decisive rows shown open: what the client sent (that is what is judged); when no received
 * message decided anything, the first decisive row.
 */
function openRows(ladder: Ladder): ReadonlySet<number> {
  const decisive = ladder.rows.filter((r) => r.decisive !== undefined);
  const received = decisive.filter((r) => r.flow === 'to-harness');
  return new Set((received.length > 0 ? received : decisive.slice(0, 1)).map((r) => r.seq));
}

function ladderRow(caseId: string, row: LadderRow, ladder: Ladder, max: number, open: boolean): Html {
  const classes = ['ev', `p-${row.protocol}`];
  if (row.decisive) classes.push('decisive', `o-${row.decisive}`);
  if (row.cites.length > 0) classes.push('evidence');
  const direction = row.kind === 'connection' ? 'connection' : row.flow === 'to-client' ? 'sent' : 'received';
  const arrow = row.flow === 'to-harness' ? '←' : '→';
  const meta = `#${row.seq} · ${direction} · ${LANE_NAME[row.protocol] ?? row.protocol}/${row.transport.toUpperCase()} harness ${row.local} ${arrow} client ${row.remote}${row.connectionId ? ` · ${row.connectionId}` : ''}${row.bytes ? ` · ${row.bytes.length} bytes` : ''} · ${row.wallClock}`;
  return html`<details class="${classes.join(' ')}" id="${eventAnchor(caseId, row.seq)}" data-seq="${row.seq}"${open ? html` open` : ''}>
<summary><span class="t">+${(row.atMs / 1000).toFixed(3)} s</span>${ladder.lanes.map((l) => laneCell(row, l.protocol))}${flags(row)}</summary>
<div class="raw-box"><div class="raw-meta">${meta}</div>${row.bytes ? rawBytes(row.bytes, max) : html`<div class="empty">no bytes</div>`}${
    row.diagnostics.length > 0 ? html`<ul class="diags">${row.diagnostics.map((d) => html`<li>${formatDiagnostic(d)}</li>`)}</ul>` : ''
  }${row.cites.length > 0 ? html`<div class="raw-meta">evidence for ${row.cites.map((c) => `${c.requirement} (${NOUN[c.outcome]})`).join(', ')}</div>` : ''}</div>
</details>`;
}

function ladderView(c: CaseReport, max: number): Html {
  const ladder = buildLadder(c.result);
  const id = `ladder-${anchorId(c.result.id)}`;
  const opened = openRows(ladder);
  if (ladder.rows.length === 0) return html`<p class="empty">No messages were exchanged.</p>`;
  return html`<div class="ladder-tools"><button type="button" data-toggle-bytes="${id}" aria-pressed="false">show all bytes</button></div>
<div class="ladder" id="${id}" style="--lanes: ${ladder.lanes.length}">
<div class="ladder-head"><div>time</div>${ladder.lanes.map(
    (l) => html`<div class="lane-head ${l.protocol}"><span class="end">PF${l.protocol === 'sip' ? ' / registrar' : ''}<small>${l.harness.join(' ')}</small></span><span class="proto">${LANE_NAME[l.protocol] ?? l.protocol}</span><span class="end client">client<small>${l.client.join(' ')}</small></span></div>`,
  )}<div>decides</div></div>
${ladder.rows.map((row) => ladderRow(c.result.id, row, ladder, max, opened.has(row.seq)))}
</div>${c.result.traceElided ? html`<p class="empty">${elidedText(c.result.traceElided)}</p>` : ''}`;
}

function verdictItem(caseId: string, v: Verdict): Html {
  const rule = (v as Verdict & { rule?: unknown }).rule;
  return html`<li class="o-${v.outcome}">${badge(v.outcome)} <span class="req">${v.requirement}</span> <span class="level">(${v.level})${v.marker ? ` [${v.marker}]` : ''}</span>${
    typeof rule === 'string' ? html` <span class="rule">rule ${rule}</span>` : ''
  }: ${v.reason}${
    v.evidence.length > 0
      ? html`<div class="evidence">decided by: ${v.evidence.map(
          (e) => html`<a href="#${eventAnchor(caseId, e.seq)}" class="ev-link">#${e.seq} ${e.kind === 'message' ? `${e.direction === 'in' ? '←' : '→'} ${e.summary}` : `${e.state}: ${e.reason}`}</a>`,
        )}</div>`
      : ''
  }</li>`;
}

function caseSection(c: CaseReport, open: boolean, options: HtmlOptions): Html {
  const r = c.result;
  const max = options.maxBytesShown ?? 65_536;
  const verdicts = [...r.verdicts].sort((a, b) => OUTCOMES_WORST_FIRST.indexOf(a.outcome) - OUTCOMES_WORST_FIRST.indexOf(b.outcome));
  const pcap = options.pcapHref?.(c);
  const showWhy = !['pass', 'informative'].includes(r.outcome);
  return html`<details class="case o-${r.outcome}" id="${caseAnchor(r.id)}" data-outcome="${r.outcome}" data-ids="${dataIds(r)}"${open ? html` open` : ''}>
<summary>${badge(r.outcome)}${c.repeat?.flaky ? html`<span class="flaky">flaky</span>` : ''}<span class="id">${r.id}</span><span>${r.title}</span><span class="reqs">${r.requirements.join(' ')}</span><span class="dur">${seconds(r.durationMs)}</span>${
    showWhy ? html`<span class="why">${headline(r)}</span>` : ''
  }</summary>
<div class="case-body">
<p class="purpose"><b>Purpose:</b> ${c.purpose}</p>
${r.skipReason ? html`<p class="problem o-skipped">Skipped: ${r.skipReason}</p>` : ''}
${r.error ? html`<div class="problem o-error"><b>Harness error:</b> ${r.error.message}${r.error.stack ? html`<details><summary>stack</summary><pre class="raw">${r.error.stack}</pre></details>` : ''}</div>` : ''}
${c.repeat ? html`<p><b>Runs:</b> ${repeatText(c.repeat)}. The verdicts and ladder below are those of the worst run.</p><table class="attempts">${c.repeat.attempts.map(
    (a, i) => html`<tr><td>run ${i + 1}</td><td>${badge(a.outcome)}</td><td>${seconds(a.durationMs)}</td><td>${a.headline}</td></tr>`,
  )}</table>` : ''}
<h3>Verdicts</h3>
${verdicts.length > 0 ? html`<ul class="verdicts">${verdicts.map((v) => verdictItem(r.id, v))}</ul>` : html`<p class="empty">No verdict.</p>`}
${r.notes.length > 0 ? html`<h3>Notes</h3><ul class="notes">${r.notes.map((n) => html`<li>${n}</li>`)}</ul>` : ''}
${pcap ? html`<p class="files">Capture: <a href="${pcap}" download>${pcap}</a> (opens in Wireshark; MSRP decodes with <code>-d tcp.port==PORT,msrp</code>)</p>` : ''}
<h3>Ladder</h3>
${ladderView(c, max)}
</div>
</details>`;
}

export function buildHtmlReport(report: RunReport, options: HtmlOptions = {}): string {
  const ordered = worstFirst(report.cases);
  const t = totals(report.cases.map((c) => c.result));
  const firstBad = ordered.find((c) => c.result.outcome === 'fail' || c.result.outcome === 'error');
  const title = `cpm-harness: ${reportFailed(report) ? 'FAILED' : 'passed'} (${OUTCOMES_WORST_FIRST.filter((o) => t[o] > 0).map((o) => `${t[o]} ${NOUN[o]}`).join(', ')}) — ${report.meta.client}`;
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${title}</title>
<style>${trusted(REPORT_CSS)}</style>
</head>
<body>
${header(report)}
<main>
${summary(report)}
${attention(ordered, report.meta.strict)}
${filters()}
${matrix(report, ordered)}
<section class="cases" aria-labelledby="h-cases">
<h2 id="h-cases">Test cases, worst first</h2>
${ordered.map((c) => caseSection(c, c === firstBad, options))}
</section>
</main>
<footer>Written by cpm-harness ${report.meta.version}. Everything in this file is offline; results.json next to it holds the same run as data.</footer>
<script>${trusted(REPORT_SCRIPT)}</script>
</body>
</html>
`;
  return page.markup;
}
