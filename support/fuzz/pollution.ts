/** Names a polluted prototype would show; checked after a campaign. */
export const POLLUTION_SENTINELS = ['polluted', 'isAdmin', 'sysctl-extender.io/team', 'sysctl-extender.io/sysctls'];

/** The built-in prototypes, whose own keys must be the same after a campaign. */

const PROTOTYPES: Record<string, object> = {
  Object: Object.prototype,
  Array: Array.prototype,
  Function: Function.prototype,
  String: String.prototype,
  Number: Number.prototype,
  Boolean: Boolean.prototype,
};

/** Own keys of the built-in prototypes, to compare before and after. */
export function prototypeKeys(): Record<string, string[]> {
  return Object.fromEntries(Object.entries(PROTOTYPES).map(([name, proto]) => [name, Reflect.ownKeys(proto).map(String).sort()]));
}

/** Sentinel names that a polluted Object.prototype would make every object show. */
export function pollutionSeen(): string[] {
  const probe: Record<string, unknown> = {};
  return POLLUTION_SENTINELS.filter((key) => probe[key] !== undefined);
}
