/**
 * latency.svg: p50 (solid) and p99 (dashed) latency against cluster size, one panel per verb,
 * for each server, at NodeNames 100% and one connection (the SPEC section 6 case). Log scales:
 * the naive scan is orders of magnitude slower than the other two.
 */
import type { GroupResult } from './latency-suite.js';
import type { ServerKind } from './server-child.js';
import type { CandidateVerb } from './scenarios.js';

const PANEL = { width: 420, height: 300, left: 64, right: 16, top: 40, bottom: 48 };
const COLORS: Record<ServerKind, string> = { baseline: '#6b7280', extender: '#2563eb', naive: '#dc2626' };
const TITLES: Record<ServerKind, string> = { baseline: 'do-nothing', extender: 'extender', naive: 'naive scan' };
const VERBS: readonly CandidateVerb[] = ['filter', 'prioritize'];

interface Point {
  readonly nodes: number;
  readonly ms: number;
}

export function latencyChart(latency: readonly GroupResult[]): string {
  const groups = latency.filter((g) => g.connections === 1 && g.scenario.mode === 'names' && g.scenario.share === 1);
  const values = groups.flatMap((g) => Object.values(g.medians).flatMap((m) => [m.p50Ms, m.p99Ms])).filter((v) => v > 0 && Number.isFinite(v));
  const sizes = [...new Set(groups.map((g) => g.scenario.cluster.nodes))].sort((a, b) => a - b);
  const width = PANEL.width * VERBS.length;
  const height = PANEL.height + 40;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ];
  if (values.length === 0 || sizes.length === 0) {
    parts.push('<text x="20" y="40">no NodeNames 100% one-connection results</text></svg>');
    return parts.join('\n');
  }
  const yMin = 10 ** Math.floor(Math.log10(Math.min(...values)));
  const yMax = 10 ** Math.ceil(Math.log10(Math.max(...values)));
  const xMin = sizes[0]! / 2;
  const xMax = sizes[sizes.length - 1]! * 2;
  VERBS.forEach((verb, i) => {
    const panel = groups.filter((g) => g.scenario.verb === verb);
    parts.push(...drawPanel(verb, panel, i * PANEL.width, { yMin, yMax, xMin, xMax }, sizes));
  });
  parts.push(...legend(height - 14));
  parts.push('</svg>');
  return parts.join('\n');
}

interface Scale {
  readonly yMin: number;
  readonly yMax: number;
  readonly xMin: number;
  readonly xMax: number;
}

function drawPanel(verb: CandidateVerb, groups: readonly GroupResult[], x0: number, scale: Scale, sizes: readonly number[]): string[] {
  const plotW = PANEL.width - PANEL.left - PANEL.right;
  const plotH = PANEL.height - PANEL.top - PANEL.bottom;
  const x = (nodes: number) => x0 + PANEL.left + (plotW * Math.log(nodes / scale.xMin)) / Math.log(scale.xMax / scale.xMin);
  const y = (ms: number) => PANEL.top + plotH - (plotH * Math.log(ms / scale.yMin)) / Math.log(scale.yMax / scale.yMin);
  const out = [
    `<text x="${x0 + PANEL.width / 2}" y="20" text-anchor="middle" font-size="13" font-weight="bold">${verb}, NodeNames 100%, 1 connection</text>`,
    `<rect x="${x0 + PANEL.left}" y="${PANEL.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#d1d5db"/>`,
    `<text x="${x0 + PANEL.left + plotW / 2}" y="${PANEL.top + plotH + 34}" text-anchor="middle">cluster size (nodes, 30 pods per node)</text>`,
    `<text transform="translate(${x0 + 16} ${PANEL.top + plotH / 2}) rotate(-90)" text-anchor="middle">latency (ms, log)</text>`,
  ];
  for (let tick = scale.yMin; tick <= scale.yMax * 1.001; tick *= 10) {
    const ty = y(tick).toFixed(1);
    out.push(`<line x1="${x0 + PANEL.left}" x2="${x0 + PANEL.left + plotW}" y1="${ty}" y2="${ty}" stroke="#f3f4f6"/>`);
    out.push(`<text x="${x0 + PANEL.left - 6}" y="${(y(tick) + 4).toFixed(1)}" text-anchor="end">${tick >= 1 ? Math.round(tick) : tick.toPrecision(1)}</text>`);
  }
  for (const nodes of sizes) out.push(`<text x="${x(nodes).toFixed(1)}" y="${PANEL.top + plotH + 16}" text-anchor="middle">${nodes}</text>`);
  for (const kind of Object.keys(COLORS) as ServerKind[]) {
    for (const [field, dash] of [['p50Ms', ''], ['p99Ms', ' stroke-dasharray="5 3"']] as const) {
      const points: Point[] = groups
        .flatMap((g) => (g.medians[kind] ? [{ nodes: g.scenario.cluster.nodes, ms: g.medians[kind][field] }] : []))
        .filter((p) => p.ms > 0 && Number.isFinite(p.ms))
        .sort((a, b) => a.nodes - b.nodes);
      if (points.length === 0) continue;
      const path = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.nodes).toFixed(1)},${y(p.ms).toFixed(1)}`).join(' ');
      out.push(`<path d="${path}" fill="none" stroke="${COLORS[kind]}" stroke-width="2"${dash}/>`);
      for (const p of points) {
        out.push(`<circle cx="${x(p.nodes).toFixed(1)}" cy="${y(p.ms).toFixed(1)}" r="3" fill="${COLORS[kind]}"><title>${TITLES[kind]} ${field.slice(0, 3)} ${p.ms.toFixed(2)} ms at ${p.nodes} nodes</title></circle>`);
      }
    }
  }
  return out;
}

function legend(yPos: number): string[] {
  const out: string[] = [];
  let xPos = 20;
  for (const kind of Object.keys(COLORS) as ServerKind[]) {
    out.push(`<line x1="${xPos}" x2="${xPos + 24}" y1="${yPos}" y2="${yPos}" stroke="${COLORS[kind]}" stroke-width="2"/>`);
    out.push(`<text x="${xPos + 30}" y="${yPos + 4}">${TITLES[kind]}</text>`);
    xPos += 130;
  }
  out.push(`<text x="${xPos}" y="${yPos + 4}">solid: p50, dashed: p99</text>`);
  return out;
}
