import type { Explanation } from './explain-pod.js';

/** The explanation as a table for a person at a terminal. */
export function formatExplanation(e: Explanation): string {
  const profile = Object.entries(e.profile).map(([k, v]) => `${k}=${v}`).join(', ') || '(empty: no unsafe or node-level sysctls)';
  const header = [
    `pod      ${e.pod}`,
    `team     ${e.team ?? '(none: shared nodes only)'}`,
    `profile  ${profile}`,
    `policy   ${e.policy}${e.trustUndeclaredAllowList ? ' (nodes without an allow-list trusted to admit unsafe sysctls)' : ''}`,
    '',
  ];
  const rows = [
    ['NODE', 'VERDICT', 'SCORE', 'TERMS (value x weight)', 'KUBELET / KERNEL', 'REASON'],
    ...e.nodes.map((n) => [
      n.node,
      n.verdict === 'pass' ? 'pass' : n.resolvable ? 'fail (preemptable)' : 'fail',
      String(n.score),
      n.terms ? Object.entries(n.terms).map(([name, t]) => `${name} ${t.value}x${t.weight}`).join(', ') : '-',
      n.runtime ? `${n.runtime.kubeletRelease ?? '?'} / ${n.runtime.kernelRelease ?? '?'}` : '-',
      [n.reason ?? '', ...n.refusedSysctls.map((r) => `${r.name}: ${r.why}`), ...(n.annotationProblem ? [n.annotationProblem] : [])]
        .filter((part) => part !== '')
        .join('; '),
    ]),
  ];
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  const lines = rows.map((r) => r.map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col]!))).join('  ').trimEnd());
  return [...header, ...lines].join('\n') + '\n';
}
