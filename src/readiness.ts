/** Whether the index can be trusted to place pods; `/readyz` and the verbs ask it. */
export interface Readiness {
  check(): { ready: true } | { ready: false; reason: string };
}

/** Ready when every part is; otherwise the first part's reason (the order is the caller's). */
export function allReady(...parts: ReadonlyArray<Readiness | undefined>): Readiness {
  const present = parts.filter((part): part is Readiness => part !== undefined);
  return {
    check: () => {
      for (const part of present) {
        const result = part.check();
        if (!result.ready) return result;
      }
      return { ready: true };
    },
  };
}
