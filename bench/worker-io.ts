// The child side of the protocol: read the spec, report "warmed", wait for "go", print the result.
import { createInterface } from 'node:readline';

export async function serveOneRun<S, R>(warmUp: (spec: S) => Promise<void>, measure: (spec: S) => Promise<R>): Promise<void> {
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) throw new Error('no spec on stdin');
  const spec = JSON.parse(first.value) as S;
  await warmUp(spec);
  send({ event: 'warmed' });
  const go = await lines.next();
  if (go.done || go.value.trim() !== 'go') throw new Error('expected "go" on stdin');
  send(await measure(spec));
  process.exit(0);
}

export function send(message: unknown): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/** Runs `main`, reporting a failure as an {"event":"failed"} line and a non-zero exit. */
export function runWorker(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    send({ event: 'failed', message: error instanceof Error ? error.stack ?? error.message : String(error) });
    process.exit(1);
  });
}
