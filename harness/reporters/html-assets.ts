/**
 * The HTML report's stylesheet and script, inlined into index.html so the file works offline,
 * from a CI artifact or an e-mail attachment. The Content-Security-Policy of the page forbids
 * every network load, so nothing here may fetch anything.
 */

export const REPORT_CSS = `
:root {
  --pass: #2e7d32; --informative: #00838f; --inconclusive: #1565c0; --warning: #b26a00;
  --fail: #c62828; --error: #8e24aa; --skipped: #6b6b6b;
  --pass-bg: #e8f5e9; --informative-bg: #e0f7fa; --inconclusive-bg: #e3f2fd; --warning-bg: #fff3e0;
  --fail-bg: #ffebee; --error-bg: #f3e5f5; --skipped-bg: #f1f1f1;
  --ink: #1d1f23; --muted: #5f6670; --line: #d9dde3; --paper: #ffffff; --wash: #f6f7f9;
  --sip: #3558a8; --msrp: #1d7a5f; --ut: #7a5a1d;
}
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink); background: var(--wash); }
code, pre, .mono { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
a { color: #1a4fb4; }
header.top { background: var(--paper); border-bottom: 1px solid var(--line); padding: 14px 22px 12px; display: flex; flex-wrap: wrap; gap: 6px 22px; align-items: baseline; }
header.top h1 { font-size: 19px; margin: 0; }
header.top h1 small { font-weight: 400; color: var(--muted); font-size: 14px; margin-left: 6px; }
.run-verdict { font-weight: 700; padding: 2px 10px; border-radius: 4px; }
.run-verdict.failed { background: var(--fail); color: #fff; }
.run-verdict.passed { background: var(--pass); color: #fff; }
.meta { display: flex; flex-wrap: wrap; gap: 2px 18px; margin: 0; width: 100%; color: var(--muted); font-size: 13px; }
.meta div { display: flex; gap: 5px; }
.meta dt { font-weight: 600; }
.meta dd { margin: 0; color: var(--ink); }
main { padding: 14px 22px 40px; max-width: 1500px; }
section { margin-bottom: 18px; }
h2 { font-size: 15px; margin: 0 0 8px; }
.summary { display: flex; flex-wrap: wrap; gap: 8px; }
.tile { border: 1px solid var(--line); border-left: 6px solid var(--c); background: var(--paper); border-radius: 6px; padding: 6px 14px 6px 10px; min-width: 104px; text-align: left; cursor: pointer; font: inherit; color: var(--ink); }
.tile b { display: block; font-size: 22px; line-height: 1.1; color: var(--c); }
.tile.zero { opacity: .55; }
.tile[aria-pressed="true"] { background: var(--cbg); outline: 2px solid var(--c); }
.strict-note { margin: 8px 0 0; color: var(--fail); font-weight: 600; }
.filters { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; background: var(--paper); border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; position: sticky; top: 0; z-index: 5; }
.filters input[type=search] { font: inherit; padding: 5px 8px; width: 360px; max-width: 100%; border: 1px solid #b9c0ca; border-radius: 4px; }
.filters .count { color: var(--muted); }
.filters button { font: inherit; padding: 4px 10px; border: 1px solid #b9c0ca; border-radius: 4px; background: var(--wash); cursor: pointer; }
.o-pass { --c: var(--pass); --cbg: var(--pass-bg); }
.o-informative { --c: var(--informative); --cbg: var(--informative-bg); }
.o-inconclusive { --c: var(--inconclusive); --cbg: var(--inconclusive-bg); }
.o-warning { --c: var(--warning); --cbg: var(--warning-bg); }
.o-fail { --c: var(--fail); --cbg: var(--fail-bg); }
.o-error { --c: var(--error); --cbg: var(--error-bg); }
.o-skipped { --c: var(--skipped); --cbg: var(--skipped-bg); }
.badge { display: inline-block; min-width: 58px; text-align: center; font-size: 11px; font-weight: 700; letter-spacing: .04em; color: #fff; background: var(--c); border-radius: 3px; padding: 1px 5px; }
.flaky { display: inline-block; font-size: 11px; font-weight: 700; color: var(--warning); border: 1px solid var(--warning); border-radius: 3px; padding: 0 5px; }
.matrix-wrap { overflow: auto; background: var(--paper); border: 1px solid var(--line); border-radius: 6px; max-height: 70vh; }
table.matrix { border-collapse: collapse; font-size: 12.5px; }
table.matrix th, table.matrix td { border-bottom: 1px solid #eceff3; padding: 2px 4px; }
table.matrix thead th { position: sticky; top: 0; background: var(--paper); z-index: 2; vertical-align: bottom; border-bottom: 1px solid var(--line); }
table.matrix th.req { writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap; font-weight: 500; padding: 6px 2px; text-align: left; }
table.matrix th.req.o-fail, table.matrix th.req.o-error { color: var(--fail); font-weight: 700; }
table.matrix td.case-cell { white-space: nowrap; max-width: 430px; overflow: hidden; text-overflow: ellipsis; }
table.matrix td.case-cell a { font-weight: 600; text-decoration: none; }
table.matrix td.case-cell .title { color: var(--muted); margin-left: 6px; }
table.matrix td.cell { text-align: center; width: 24px; padding: 1px; }
table.matrix td.cell a { display: block; text-decoration: none; color: #fff; background: var(--c); border-radius: 3px; font-weight: 700; line-height: 18px; }
table.matrix td.cell.declared a { background: var(--wash); color: var(--muted); border: 1px dashed #c5cbd3; }
table.matrix tbody tr:hover { background: #f3f6fb; }
.attention ul { list-style: none; margin: 0; padding: 0; background: var(--paper); border: 1px solid var(--line); border-radius: 6px; }
.attention li { padding: 5px 10px; border-bottom: 1px solid #eceff3; }
.attention li:last-child { border-bottom: 0; }
.attention li a { font-weight: 700; margin: 0 8px 0 4px; }
.attention li .why { color: var(--c); }
details.case, details.ev { scroll-margin-top: 64px; }
.cases details.case { background: var(--paper); border: 1px solid var(--line); border-left: 6px solid var(--c); border-radius: 6px; margin-bottom: 8px; }
.cases details.case > summary { cursor: pointer; padding: 8px 12px; display: flex; gap: 10px; align-items: baseline; flex-wrap: wrap; }
.cases details.case > summary .id { font-weight: 700; }
.cases details.case > summary .reqs { color: var(--muted); font-size: 12px; }
.cases details.case > summary .dur { margin-left: auto; color: var(--muted); font-size: 12px; }
.cases details.case > summary .why { flex-basis: 100%; margin-left: 68px; color: var(--c); font-size: 13px; }
.case-body { padding: 0 14px 14px; border-top: 1px solid #eceff3; }
.purpose { color: #30353c; margin: 10px 0; }
.problem { background: var(--cbg); border: 1px solid var(--c); border-radius: 4px; padding: 6px 10px; }
ul.verdicts { list-style: none; padding: 0; margin: 6px 0 10px; }
ul.verdicts li { border-left: 4px solid var(--c); background: var(--cbg); padding: 5px 10px; margin-bottom: 4px; border-radius: 0 4px 4px 0; }
ul.verdicts li .req { font-weight: 700; }
ul.verdicts li .level, ul.verdicts li .rule { color: var(--muted); font-size: 12px; }
ul.verdicts li .evidence { margin-top: 3px; font-size: 12.5px; }
ul.verdicts li .evidence a { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; font-size: 12px; margin-right: 10px; }
.notes { color: var(--muted); }
.files a { margin-right: 14px; }
table.attempts { border-collapse: collapse; margin: 4px 0 10px; }
table.attempts td { padding: 1px 8px 1px 0; }
.ladder { border: 1px solid var(--line); border-radius: 4px; margin-top: 6px; overflow: hidden; }
.ladder-head, details.ev > summary { display: grid; grid-template-columns: 6.2em repeat(var(--lanes), minmax(260px, 1fr)) 11em; align-items: center; }
.ladder-head { background: var(--wash); border-bottom: 1px solid var(--line); font-size: 12px; font-weight: 600; }
.ladder-head > div { padding: 5px 8px; }
.lane-head { display: flex; justify-content: space-between; gap: 8px; border-left: 1px solid var(--line); }
.lane-head .proto { font-weight: 700; }
.lane-head.sip .proto { color: var(--sip); } .lane-head.msrp .proto { color: var(--msrp); } .lane-head.ut .proto { color: var(--ut); }
.lane-head small { display: block; font-weight: 400; color: var(--muted); font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 11px; }
.lane-head .end.client { text-align: right; }
details.ev { border-bottom: 1px solid #f0f2f5; }
details.ev > summary { cursor: pointer; list-style: none; min-height: 30px; }
details.ev > summary::-webkit-details-marker { display: none; }
details.ev > summary:hover { background: #f5f8fc; }
details.ev .t { padding: 0 8px; color: var(--muted); font-size: 12px; text-align: right; font-variant-numeric: tabular-nums; }
details.ev .lane { position: relative; align-self: stretch; display: flex; align-items: center; padding: 0 14px;
  background: linear-gradient(#b8c0cc, #b8c0cc) left 8px top 0 / 2px 100% no-repeat, linear-gradient(#b8c0cc, #b8c0cc) right 8px top 0 / 2px 100% no-repeat; border-left: 1px solid #eef0f3; }
.arrow { position: relative; flex: 1; height: 26px; }
.arrow::before { content: ""; position: absolute; left: 0; right: 0; bottom: 6px; border-top: 2px solid var(--lc); }
.arrow::after { content: ""; position: absolute; bottom: 1px; border: 6px solid transparent; }
.arrow.to-client::after { right: -4px; border-left: 10px solid var(--lc); border-right: 0; }
.arrow.to-harness::after { left: -4px; border-right: 10px solid var(--lc); border-left: 0; }
.arrow .label { position: absolute; left: 10px; right: 10px; bottom: 9px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; text-align: center; }
.lane.sip { --lc: var(--sip); } .lane.msrp { --lc: var(--msrp); } .lane.ut { --lc: var(--ut); }
.conn { flex: 1; text-align: center; font-size: 11.5px; color: var(--muted); border-top: 1px dashed #c5cbd3; border-bottom: 1px dashed #c5cbd3; padding: 1px 4px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; background: var(--paper); }
.conn.bad { color: var(--fail); border-color: var(--fail); }
.flags { font-size: 11.5px; padding: 0 6px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.flags .diag { color: var(--fail); font-weight: 700; }
.flags .cite { color: var(--muted); }
details.ev.decisive > summary { background: var(--cbg); box-shadow: inset 5px 0 0 var(--c); }
details.ev.decisive > summary .label { font-weight: 700; color: var(--c); }
details.ev.decisive .flags .cite { color: var(--c); font-weight: 700; }
details.ev.flash > summary { animation: flash 1.2s ease-out; }
@keyframes flash { from { background: #fff59d; } }
.raw-box { padding: 6px 12px 10px 6.6em; background: #fbfcfd; border-top: 1px solid #eef0f3; }
details.ev.decisive .raw-box { background: var(--cbg); }
.raw-meta { color: var(--muted); font-size: 12px; margin-bottom: 4px; }
pre.raw { margin: 0; padding: 8px 10px; background: var(--paper); border: 1px solid var(--line); border-radius: 4px; overflow: auto; max-height: 480px; white-space: pre; }
pre.raw .esc { color: #b3261e; background: #fdecea; border-radius: 2px; }
pre.raw .eol { color: #b8c0cc; }
ul.diags { margin: 6px 0 0; padding-left: 18px; color: var(--fail); font-size: 12.5px; }
.empty { color: var(--muted); font-style: italic; padding: 8px; }
[hidden] { display: none !important; }
footer { color: var(--muted); font-size: 12px; padding: 0 22px 20px; }
`;

/**
 * Filtering (outcome tiles, ID search) and anchor navigation: following a link to a case or a
 * message opens it and everything around it. Plain ES2017 for any browser a CI artifact is opened in.
 */
export const REPORT_SCRIPT = `
(function () {
  'use strict';
  var tiles = Array.prototype.slice.call(document.querySelectorAll('[data-filter-outcome]'));
  var search = document.getElementById('filter-id');
  var count = document.getElementById('shown-count');
  var rows = Array.prototype.slice.call(document.querySelectorAll('[data-case-row]'));
  var cases = Array.prototype.slice.call(document.querySelectorAll('details.case'));
  function wanted() {
    return tiles.filter(function (t) { return t.getAttribute('aria-pressed') === 'true'; }).map(function (t) { return t.getAttribute('data-filter-outcome'); });
  }
  function matches(el, outcomes, text) {
    if (outcomes.length > 0 && outcomes.indexOf(el.getAttribute('data-outcome')) < 0) return false;
    if (text && el.getAttribute('data-ids').toLowerCase().indexOf(text) < 0) return false;
    return true;
  }
  function apply() {
    var outcomes = wanted();
    var text = search.value.trim().toLowerCase();
    var shown = 0;
    rows.forEach(function (r) { var ok = matches(r, outcomes, text); r.hidden = !ok; if (ok) shown++; });
    cases.forEach(function (c) { c.hidden = !matches(c, outcomes, text); });
    count.textContent = shown + ' of ' + rows.length + ' test cases';
    document.getElementById('no-match').hidden = shown > 0;
  }
  tiles.forEach(function (t) {
    t.addEventListener('click', function () {
      t.setAttribute('aria-pressed', t.getAttribute('aria-pressed') === 'true' ? 'false' : 'true');
      apply();
    });
  });
  search.addEventListener('input', apply);
  document.getElementById('clear-filters').addEventListener('click', function () {
    tiles.forEach(function (t) { t.setAttribute('aria-pressed', 'false'); });
    search.value = '';
    apply();
  });
  function reveal(id) {
    var target = id ? document.getElementById(id) : null;
    if (!target) return;
    for (var el = target; el; el = el.parentElement) {
      if (el.tagName === 'DETAILS') el.open = true;
      if (el.hidden) el.hidden = false;
    }
    target.scrollIntoView({ block: target.classList.contains('ev') ? 'center' : 'start' });
    if (target.classList.contains('ev')) {
      target.classList.remove('flash');
      void target.offsetWidth;
      target.classList.add('flash');
    }
  }
  document.addEventListener('click', function (event) {
    var link = event.target.closest ? event.target.closest('a[href^="#"]') : null;
    if (!link) return;
    var id = decodeURIComponent(link.getAttribute('href').slice(1));
    if (!document.getElementById(id)) return;
    event.preventDefault();
    if (location.hash !== '#' + id) history.pushState(null, '', '#' + id);
    reveal(id);
  });
  window.addEventListener('hashchange', function () { reveal(decodeURIComponent(location.hash.slice(1))); });
  document.querySelectorAll('[data-toggle-bytes]').forEach(function (b) {
    b.addEventListener('click', function () {
      var box = document.getElementById(b.getAttribute('data-toggle-bytes'));
      var evs = box.querySelectorAll('details.ev');
      var open = b.getAttribute('aria-pressed') !== 'true';
      evs.forEach(function (e) { e.open = open; });
      b.setAttribute('aria-pressed', open ? 'true' : 'false');
      b.textContent = open ? 'hide all bytes' : 'show all bytes';
    });
  });
  apply();
  if (location.hash) reveal(decodeURIComponent(location.hash.slice(1)));
})();
`;
