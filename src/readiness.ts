/** Whether the index can be trusted to place pods; `/readyz` and the verbs ask it. */
export interface Readiness {
  check(): { ready: true } | { ready: false; reason: string };
}

/** Readiness of a source that is complete once loaded: a snapshot or the demo cluster. */
export class StaticReadiness implements Readiness {
  private loaded = false;

  markLoaded(): void {
    this.loaded = true;
  }

  check(): { ready: true } | { ready: false; reason: string } {
    return this.loaded ? { ready: true } : { ready: false, reason: 'index not loaded yet' };
  }
}
