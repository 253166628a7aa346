import type { SysctlConfEntry } from './sysctl-conf.js';

/**
 * Interned sysctl profiles: every distinct set of `name=value` pairs gets one small integer,
 * so that comparing a node's profile with a pod's is a single `===` on the hot path.
 *
 * Id 0 is the empty profile. Ids are never reused: the table grows with the distinct profiles
 * the cluster has shown, which is small next to the number of pods.
 */

export const EMPTY_PROFILE = 0;
/** A union that sets one name to two values (pods disagree): equals no pod's profile. */
export const CONFLICTING_PROFILE = -1;
/** A profile looked up but never interned (a request-time pod): equals no node's profile. */
export const UNSEEN_PROFILE = -2;

export type ProfileId = number;

export class ProfileTable {
  private readonly ids = new Map<string, ProfileId>([['', EMPTY_PROFILE]]);
  private readonly profiles: ReadonlyMap<string, string>[] = [new Map()];
  private readonly unions = new Map<string, ProfileId>();

  get size(): number {
    return this.profiles.length;
  }

  intern(entries: Iterable<SysctlConfEntry>): ProfileId {
    const map = toMap(entries);
    const key = keyOf(map);
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.profiles.length;
      this.profiles.push(map);
      this.ids.set(key, id);
    }
    return id;
  }

  /** Like intern, but never adds: request-time input must not grow the table. */
  lookup(entries: Iterable<SysctlConfEntry>): ProfileId {
    return this.ids.get(keyOf(toMap(entries))) ?? UNSEEN_PROFILE;
  }

  entries(id: ProfileId): ReadonlyMap<string, string> {
    const profile = this.profiles[id];
    if (!profile) throw new RangeError(`no profile ${id}`);
    return profile;
  }

  /** The union of interned profiles, or CONFLICTING_PROFILE where two set one name differently. */
  union(ids: Iterable<ProfileId>): ProfileId {
    const distinct = [...new Set(ids)].filter((id) => id !== EMPTY_PROFILE).sort((a, b) => a - b);
    if (distinct.length === 0) return EMPTY_PROFILE;
    if (distinct.length === 1) return distinct[0]!;
    // A conflict, or a profile never interned, makes a union that equals nothing.
    if (distinct.some((id) => id < 0)) return CONFLICTING_PROFILE;
    const memoKey = distinct.join(',');
    const memo = this.unions.get(memoKey);
    if (memo !== undefined) return memo;
    const merged = new Map<string, string>();
    let result: ProfileId | undefined;
    for (const id of distinct) {
      for (const [name, value] of this.entries(id)) {
        const existing = merged.get(name);
        if (existing !== undefined && existing !== value) result = CONFLICTING_PROFILE;
        merged.set(name, value);
      }
    }
    result ??= this.intern([...merged].map(([name, value]) => ({ name, value })));
    this.unions.set(memoKey, result);
    return result;
  }
}

function toMap(entries: Iterable<SysctlConfEntry>): Map<string, string> {
  const map = new Map<string, string>();
  for (const { name, value } of entries) map.set(name, value);
  return map;
}

/** JSON of the sorted pairs: unambiguous whatever characters a name or value holds. */
function keyOf(map: ReadonlyMap<string, string>): string {
  if (map.size === 0) return '';
  return JSON.stringify([...map.keys()].sort().map((name) => [name, map.get(name)]));
}
