/** Whether the index can be trusted to place pods; `/readyz` and the verbs ask it. */
export interface Readiness {
  check(): { ready: true } | { ready: false; reason: string };
}
