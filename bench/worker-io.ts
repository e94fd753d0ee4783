// The child side of the protocol: read the spec, start the load and report "warmed"; then, for
// every "go", measure one window, report it and stop the load, and for every "resume", start it
// again and report "warmed" once it has settled. The worker exits when its stdin closes.
import { createInterface } from 'node:readline';
import type { RoundSpec } from './protocol.js';

export interface RoundWorker<S extends RoundSpec, R> {
  /** Starts (or restarts) the load and runs it for `seconds` before a window is measured. */
  start(spec: S, seconds: number): Promise<void>;
  /** Measures one window of `spec.durationSeconds`. */
  measure(spec: S): Promise<R>;
  /**
   * Stops the load until the next start. Called once the window's result is sent: the bench
   * reads the server's CPU time and the database's counters as it arrives, and the requests of
   * the stop's last milliseconds belong to no window.
   */
  stop(): Promise<void>;
}

export async function serveRounds<S extends RoundSpec, R>(worker: RoundWorker<S, R>): Promise<void> {
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) throw new Error('no spec on stdin');
  const spec = JSON.parse(first.value) as S;
  await worker.start(spec, spec.warmupSeconds);
  send({ event: 'warmed' });
  for (let line = await lines.next(); !line.done; line = await lines.next()) {
    const command = line.value.trim();
    if (command === 'go') {
      send(await worker.measure(spec));
      await worker.stop();
    } else if (command === 'resume') {
      await worker.start(spec, spec.settleSeconds);
      send({ event: 'warmed' });
    } else throw new Error(`unknown command "${command}" on stdin`);
  }
  process.exit(0);
}

export function send(message: unknown): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/** Runs `main`, reporting a failure as an {"event":"failed"} line and a non-zero exit. */
export function runWorker(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    send({ event: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    process.exit(1);
  });
}
