/**
 * The shape of a synthetic cluster, beside its size: the things that change what a filter or
 * prioritize call costs per candidate (how long names are, how teams and dedicated nodes are
 * spread, how many nodes declare allow-lists, how many profiles). The bench's figures hold
 * only for shapes it generated, so it runs a matrix of them (SPEC section 6).
 */
export type NameStyle = 'short' | 'worker' | 'cloud';

export interface ClusterShape {
  readonly names: NameStyle;
  readonly teams: number;
  /** Share of nodes dedicated to a team (the rest are shared). */
  readonly dedicatedShare: number;
  /** Share of nodes that declare an allow-list; undefined: the bench's own mix (see allowListOf). */
  readonly allowListShare: number | undefined;
  readonly profiles: number;
}

/** The bench's own cluster, as it was before shapes were parameters. */
export const DEFAULT_SHAPE: ClusterShape = { names: 'cloud', teams: 10, dedicatedShare: 0.7, allowListShare: undefined, profiles: 6 };

export function nodeNamer(style: NameStyle): (index: number) => string {
  switch (style) {
    case 'short':
      return (index) => `n${index}`;
    case 'worker':
      return (index) => `worker-${index}`;
    case 'cloud':
      // AWS-style: realistic lengths make realistic `NodeNames` bodies.
      return (index) => `ip-10-0-${(index >> 8) & 255}-${index & 255}.eu-west-1.compute.internal`;
  }
}

/** `names=short,teams=4,dedicated=0.5,allowLists=0.15,profiles=7`: the form the bench's logs and options use. */
export function describeShape(shape: ClusterShape): string {
  const allow = shape.allowListShare === undefined ? 'mixed' : String(shape.allowListShare);
  return `names=${shape.names},teams=${shape.teams},dedicated=${shape.dedicatedShare},allowLists=${allow},profiles=${shape.profiles}`;
}

export function parseShape(text: string): ClusterShape {
  const fields = new Map(text.split(',').map((pair) => pair.split('=', 2) as [string, string]));
  const number = (key: string, min: number, max: number, fallback: number): number => {
    const raw = fields.get(key);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max) throw new RangeError(`shape ${key}=${raw} is not in ${min}..${max}`);
    return value;
  };
  for (const key of fields.keys()) {
    if (!['names', 'teams', 'dedicated', 'allowLists', 'profiles'].includes(key)) throw new RangeError(`unknown shape field ${key} in ${text}`);
  }
  const names = (fields.get('names') ?? DEFAULT_SHAPE.names) as NameStyle;
  if (!['short', 'worker', 'cloud'].includes(names)) throw new RangeError(`shape names=${names} is not short, worker or cloud`);
  const allow = fields.get('allowLists');
  return {
    names,
    teams: number('teams', 1, 1000, DEFAULT_SHAPE.teams),
    dedicatedShare: number('dedicated', 0, 1, DEFAULT_SHAPE.dedicatedShare),
    allowListShare: allow === undefined || allow === 'mixed' ? undefined : number('allowLists', 0, 1, 0),
    profiles: number('profiles', 1, 500, DEFAULT_SHAPE.profiles),
  };
}
