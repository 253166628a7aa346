/**
 * Polls until `condition` holds (no blind sleeps); fails with `what` after `timeoutMs`. The
 * budget is a minute: on a busy machine (both cores taken) an event that takes 50 ms idle can
 * take seconds, and a generous budget costs nothing when the event comes.
 */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
