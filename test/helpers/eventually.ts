// For what another process or the database does in its own time (a notice crossing instances,
// a database coming back): poll, with a deadline, rather than sleep a fixed while.

/** Polls until `probe` holds or `deadlineMs` passes; returns whether it held. */
export async function eventually(probe: () => Promise<boolean>, deadlineMs: number, pollMs = 100): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    if (await probe()) return true;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  return probe();
}
