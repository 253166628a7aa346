import type { NodeStatus, StatusModel, TeamStatus } from './status-model.js';

/** Seconds between the page's own reloads (`<meta http-equiv="refresh">`). */
export const REFRESH_SECONDS = 15;

/** `?team=` value naming the shared nodes: `-` is no valid label value, so no team can be called that. */
export const SHARED_TEAM_PARAM = '-';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Every string put into the page goes through here: names and values come from the cluster. */
export function escapeHtml(text: string | number): string {
  return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** Escaped, with a line-break opportunity after each comma and `=` of a sysctl list. */
function sysctlText(text: string): string {
  return escapeHtml(text).replace(/([,=])/g, '$1<wbr>');
}

/** The status page: one self-contained document, no script, no external asset. */
export function renderStatusHtml(model: StatusModel): string {
  const parts: string[] = [
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta http-equiv="refresh" content="${REFRESH_SECONDS}">`,
    '<title>sysctl-extender status</title>',
    `<style>${CSS}</style></head><body><main>`,
    header(model),
    health(model),
    profiles(model),
    refusals(model),
    teams(model),
    `<footer>Generated ${escapeHtml(model.generatedAt)}; reloads every ${REFRESH_SECONDS} s. The same data: <a href="status.json">status.json</a>.</footer>`,
    '</main></body></html>',
  ];
  return parts.join('\n');
}

function header(model: StatusModel): string {
  const r = model.readiness;
  const badge = r.ready ? '<span class="badge ok">ready</span>' : `<span class="badge bad">not ready</span> <span class="why">${escapeHtml(r.reason ?? '')}</span>`;
  return `<header><h1>sysctl-extender</h1><p id="readiness">${badge}</p></header>`;
}

function health(model: StatusModel): string {
  const i = model.index;
  const p = model.policy;
  const rows: Array<[string, string]> = [
    ['Nodes', escapeHtml(i.nodes)],
    ['Pods', escapeHtml(i.pods)],
    ['Namespaces', escapeHtml(i.namespaces)],
    ['Profiles interned', escapeHtml(i.profiles)],
    ['Policy', `${escapeHtml(p.mode)}${p.source ? `, from ${escapeHtml(p.source)}` : ''}`],
  ];
  if (p.reloadRefused) rows.push(['Policy reload', `<span class="bad-text">refused at ${escapeHtml(p.reloadRefused)}; the previous policy stays in force</span>`]);
  return `<section id="health"><h2>Index and watch</h2><dl>${rows.map(([k, v]) => `<div><dt>${k}</dt><dd>${v}</dd></div>`).join('')}</dl></section>`;
}

function profiles(model: StatusModel): string {
  const rows = model.profiles.map((p) => `<tr><td class="sysctls">${sysctlText(p.profile)}</td><td class="num">${escapeHtml(p.nodes)}</td></tr>`);
  return `<section id="profiles"><h2>Profiles in effect</h2>${table(['Profile', 'Nodes'], rows, 'No nodes yet.')}</section>`;
}

function refusals(model: StatusModel): string {
  const rows = model.refusals.recent.map((r) => {
    const reasons = Object.entries(r.reasons)
      .sort((a, b) => b[1] - a[1])
      .map(([code, n]) => `<li><code>${escapeHtml(code)}</code> ${escapeHtml(n)}</li>`)
      .join('');
    return `<tr><td data-label="Time"><div>${escapeHtml(r.at)}</div></td><td data-label="Pod"><div>${escapeHtml(r.pod)}</div></td><td data-label="Refused" class="num"><div>${escapeHtml(r.refused)} of ${escapeHtml(r.candidates)}</div></td><td data-label="Reasons"><ul class="reasons">${reasons}</ul></td></tr>`;
  });
  const note = `<p>${escapeHtml(model.refusals.calls)} filter call(s) refused nodes since start; the last ${escapeHtml(model.refusals.recent.length)}, newest first.</p>`;
  return `<section id="refusals"><h2>Recent refusals</h2>${note}${table(['Time', 'Pod', 'Refused', 'Reasons'], rows, 'No filter call has refused a node yet.', true)}</section>`;
}

function teams(model: StatusModel): string {
  const nav = model.teams.map((t) => `<li><a href="#${anchor(t)}">${escapeHtml(teamTitle(t))}</a> ${escapeHtml(t.nodes)}</li>`).join('');
  const selected = model.selection.team !== undefined;
  const sections = model.teams.map(teamSection).join('\n');
  const back = selected ? '<p><a href="status">All teams</a></p>' : '';
  return `<section id="teams"><h2>Nodes by team</h2>${back}<ul class="nav">${nav}</ul>${sections}</section>`;
}

function teamSection(t: TeamStatus): string {
  const counts = `${escapeHtml(t.nodes)} node(s), ${escapeHtml(t.idle)} idle`;
  const link = escapeHtml(`status?team=${encodeURIComponent(t.team ?? SHARED_TEAM_PARAM)}`);
  let more = '';
  if (t.shown.length === 0 && t.nodes > 0) more = `. <a href="${link}">Show them</a>`;
  else if (t.shown.length < t.nodes) more = `; the first ${escapeHtml(t.shown.length)} by name. <a href="${link}">All ${escapeHtml(t.nodes)}</a>`;
  const body = t.shown.length === 0 ? '' : table(['Node', 'Profile in effect', 'Declares', 'Allow-list', 'Kubelet', 'Kernel', 'Occupants', 'State'], t.shown.map(nodeRow), '', true);
  return `<section class="team" id="${anchor(t)}"><h3>${escapeHtml(teamTitle(t))}</h3><p>${counts}${more}</p>${body}</section>`;
}

function nodeRow(n: NodeStatus): string {
  const state = n.problem
    ? `<span class="badge bad">unreadable</span> <span class="why">${escapeHtml(n.problem)}</span>`
    : n.idle ? '<span class="badge idle">idle</span>' : '<span class="badge busy">busy</span>';
  const cells: Array<[string, string, string?]> = [
    ['Node', `<strong>${escapeHtml(n.name)}</strong>`],
    ['Profile in effect', sysctlText(n.profile), 'sysctls'],
    ['Declares', sysctlText(n.declared), 'sysctls'],
    ['Allow-list', n.allowList === null ? '<span class="muted">none declared</span>' : sysctlText(n.allowList), 'sysctls'],
    ['Kubelet', n.kubelet === null ? '<span class="muted">unknown</span>' : escapeHtml(n.kubelet)],
    ['Kernel', n.kernel === null ? '<span class="muted">unknown</span>' : escapeHtml(n.kernel)],
    ['Occupants', escapeHtml(n.occupants), 'num'],
    ['State', state],
  ];
  return `<tr class="node">${cells.map(([label, html, cls]) => `<td data-label="${label}"${cls ? ` class="${cls}"` : ''}><div>${html}</div></td>`).join('')}</tr>`;
}

function table(headings: string[], rows: string[], empty: string, stacked = false): string {
  if (rows.length === 0) return `<p class="muted">${escapeHtml(empty)}</p>`;
  return `<table${stacked ? ' class="stack"' : ''}><thead><tr>${headings.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function teamTitle(t: TeamStatus): string {
  return t.team === null ? 'Shared nodes' : `Team ${t.team}`;
}

/** Label values are [A-Za-z0-9._-]: safe as ids once prefixed. */
function anchor(t: TeamStatus): string {
  return t.team === null ? 'shared' : `team-${escapeHtml(t.team)}`;
}

const CSS = `
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d232a;background:#f5f6f8}
main{max-width:1240px;margin:0 auto;padding:16px}
header{display:flex;flex-wrap:wrap;align-items:baseline;gap:12px}
h1{font-size:1.5rem;margin:0 0 8px}
h2{font-size:1.2rem;margin:24px 0 8px;border-bottom:1px solid #d5d9de;padding-bottom:4px}
h3{font-size:1.05rem;margin:18px 0 4px}
section p{margin:4px 0 8px}
dl{display:flex;flex-wrap:wrap;gap:8px 24px;margin:0}
dl div{background:#fff;border:1px solid #d5d9de;border-radius:6px;padding:6px 12px}
dt{font-size:.8rem;color:#5b6670}
dd{margin:0;font-weight:600}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #d5d9de}
th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid #e6e9ec}
th{background:#eef1f4;font-size:.85rem}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.sysctls,code,.why{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85rem;overflow-wrap:break-word}
.why{display:block;max-width:26em}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:.8rem;font-weight:600}
.ok,.idle{background:#dff3e4;color:#17602d}
.busy{background:#e3ebf7;color:#1f4f8f}
.bad{background:#fbe3e1;color:#8c1d13}
.bad-text{color:#8c1d13}
.muted{color:#5b6670}
ul.nav{display:flex;flex-wrap:wrap;gap:4px 16px;list-style:none;padding:0;margin:4px 0}
ul.reasons{list-style:none;margin:0;padding:0}
a{color:#1f4f8f}
footer{margin:24px 0 8px;color:#5b6670;font-size:.85rem}
@media (max-width:760px){
 main{padding:10px}
 td.sysctls,code,.why{overflow-wrap:anywhere}
 table.stack,table.stack tbody,table.stack tr,table.stack td{display:block;width:100%}
 table.stack thead{display:none}
 table.stack tr{border-bottom:2px solid #d5d9de;padding:4px 0}
 table.stack td{border:0;padding:2px 8px;display:grid;grid-template-columns:8.5rem minmax(0,1fr);gap:8px}
 table.stack td::before{content:attr(data-label);font-weight:600;color:#5b6670;font-family:system-ui,sans-serif;font-size:.8rem}
 td.num{text-align:left}
}
`.trim();
