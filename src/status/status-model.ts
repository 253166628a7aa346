import type { Generation } from '../http/generation.js';
import type { Readiness } from '../readiness.js';
import type { NodeView } from '../sysctl-index/cluster-index.js';
import { CONFLICTING_PROFILE, type ProfileId, type ProfileTable } from '../sysctl-index/profile-intern.js';
import type { RefusalLog, RefusalRecord } from './refusal-log.js';

/** One node as the status page shows it: only what the extender itself reads of the Node. */
export interface NodeStatus {
  readonly name: string;
  /** The profile in effect: declared node-level values plus those of the pods on it (`name=value, ...`). */
  readonly profile: string;
  /** Its declared node-level values (`sysctl-extender.io/sysctls`). */
  readonly declared: string;
  /** Its `allowed-unsafe-sysctls` annotation as written; null where it declares none. */
  readonly allowList: string | null;
  readonly kubelet: string | null;
  readonly kernel: string | null;
  readonly occupants: number;
  readonly idle: boolean;
  /** Why its annotations cannot be read (it takes no pods); null where they can. */
  readonly problem: string | null;
}

export interface TeamStatus {
  /** null: the shared nodes (no team label). */
  readonly team: string | null;
  readonly nodes: number;
  readonly idle: number;
  /** The first nodes by name, up to the limit; none for a team not selected (`?team=`). */
  readonly shown: NodeStatus[];
}

export interface StatusModel {
  readonly generatedAt: string;
  readonly readiness: { readonly ready: boolean; readonly reason: string | null };
  readonly index: { readonly nodes: number; readonly pods: number; readonly namespaces: number; readonly profiles: number };
  readonly policy: { readonly mode: string; readonly source: string | null; readonly reloadRefused: string | null };
  /** Every team, named ones by name, then the shared nodes. */
  readonly teams: TeamStatus[];
  /** The distinct profiles in effect, most carried first. */
  readonly profiles: Array<{ readonly profile: string; readonly nodes: number }>;
  readonly refusals: { readonly calls: number; readonly recent: RefusalRecord[] };
  /** The team asked for (`?team=`), and how many nodes per team are shown. */
  readonly selection: { readonly team: string | null | undefined; readonly limit: number | null };
}

export interface StatusSources {
  readonly generation: () => Generation;
  readonly readiness: Readiness;
  readonly refusals?: RefusalLog;
  readonly configStatus?: () => object;
}

export interface StatusQuery {
  /** Only this team (null: only the shared nodes); undefined: every team. */
  readonly team?: string | null;
  /** Nodes shown per team; null: all. */
  readonly limit: number | null;
}

export const DEFAULT_LIMIT = 50;
const NONE = '(none)';

const byName = new Intl.Collator('en', { numeric: true }).compare;

/**
 * The status page's data, read from the index in one pass over its nodes: grouping and the
 * profile counts are O(nodes); only the nodes shown are sorted by name beyond their team's
 * first `limit` (a partial pass), and each distinct profile is formatted once.
 */
export function buildStatus(sources: StatusSources, query: StatusQuery): StatusModel {
  const { index, policy } = sources.generation();
  const readiness = sources.readiness.check();
  const groups = new Map<string | null, NodeView[]>();
  const idle = new Map<string | null, number>();
  const profileCounts = new Map<ProfileId, number>();
  for (const view of index.knownNodes()) {
    profileCounts.set(view.profileId, (profileCounts.get(view.profileId) ?? 0) + 1);
    const team = view.projection!.team ?? null;
    let group = groups.get(team);
    if (!group) groups.set(team, (group = []));
    group.push(view);
    if (view.occupants === 0) idle.set(team, (idle.get(team) ?? 0) + 1);
  }
  const names = new ProfileNames(index.profiles);
  const teams: TeamStatus[] = [];
  const order = [...groups.keys()].filter((t): t is string => t !== null).sort(byName);
  if (groups.has(null)) order.push(null as unknown as string);
  for (const team of order as Array<string | null>) {
    const views = groups.get(team)!;
    const selected = query.team === undefined || team === query.team;
    teams.push({ team, nodes: views.length, idle: idle.get(team) ?? 0, shown: selected ? firstByName(views, query.limit).map((v) => nodeStatus(v, names)) : [] });
  }
  const profiles = [...profileCounts]
    .map(([id, count]) => ({ profile: names.of(id), nodes: count }))
    .sort((a, b) => b.nodes - a.nodes || byName(a.profile, b.profile));
  const config = (sources.configStatus?.() ?? {}) as { source?: unknown; rejected?: { at?: unknown } };
  const stats = index.stats;
  return {
    generatedAt: new Date().toISOString(),
    readiness: { ready: readiness.ready, reason: readiness.ready ? null : readiness.reason },
    index: { nodes: stats.nodes, pods: stats.pods, namespaces: stats.namespaces, profiles: stats.profiles },
    policy: {
      mode: policy.ruleMode,
      source: typeof config.source === 'string' ? config.source : null,
      // When, not why: the refused document's text may quote anything.
      reloadRefused: config.rejected && typeof config.rejected.at === 'string' ? config.rejected.at : null,
    },
    teams,
    profiles,
    refusals: { calls: sources.refusals?.recorded ?? 0, recent: sources.refusals?.recent() ?? [] },
    selection: { team: query.team, limit: query.limit },
  };
}

function nodeStatus(view: NodeView, names: ProfileNames): NodeStatus {
  const p = view.projection!;
  return {
    name: view.name,
    profile: names.of(view.profileId),
    declared: names.of(p.declaredId),
    allowList: p.allowList?.source ?? (p.allowListUnreadable ? 'unreadable' : null),
    kubelet: p.runtime.kubeletVersion ?? null,
    kernel: p.runtime.kernelVersion ?? null,
    occupants: view.occupants,
    idle: view.occupants === 0,
    problem: p.annotationProblem ?? null,
  };
}

/** The `limit` first views by name; a full sort only when all are asked for or few are there. */
function firstByName(views: NodeView[], limit: number | null): NodeView[] {
  if (limit === null || views.length <= limit * 4) return views.sort((a, b) => byName(a.name, b.name)).slice(0, limit ?? undefined);
  // Keep a sorted window of `limit`: one comparison per view past it, most of which it rejects.
  const window = views.slice(0, limit).sort((a, b) => byName(a.name, b.name));
  for (let i = limit; i < views.length; i += 1) {
    const view = views[i]!;
    if (byName(view.name, window[limit - 1]!.name) >= 0) continue;
    let at = limit - 1;
    while (at > 0 && byName(view.name, window[at - 1]!.name) < 0) at -= 1;
    window.splice(at, 0, view);
    window.pop();
  }
  return window;
}

/** `name=value, ...` per interned profile, formatted once per page. */
class ProfileNames {
  private readonly memo = new Map<ProfileId, string>();

  constructor(private readonly table: ProfileTable) {}

  of(id: ProfileId): string {
    let text = this.memo.get(id);
    if (text === undefined) {
      if (id === CONFLICTING_PROFILE) text = 'conflicting values';
      else if (id < 0) text = 'unknown';
      else {
        const entries = [...this.table.entries(id)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        text = entries.length === 0 ? NONE : entries.map(([name, value]) => `${name}=${value}`).join(', ');
      }
      this.memo.set(id, text);
    }
    return text;
  }
}
