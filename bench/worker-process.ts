// The parent side of the protocol: start a worker script as its own Node process, hand it the
// spec, and let the bench decide when each window starts (after every worker of the scenario has
// warmed up or settled). A worker lives through every round of its scenario.
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';

export interface WorkerHandle<R> {
  /** Resolves once the worker has finished its warm-up. */
  readonly warmed: Promise<void>;
  /** Measures one window; resolves with the worker's result as the window closes (its load then stops). */
  go(): Promise<R>;
  /** Starts the load again; resolves once it has settled. */
  resume(): Promise<void>;
  /** Lets the worker exit. */
  close(): void;
  kill(): void;
}

const live = new Set<ChildProcess>();

/** Kills every worker still running (cleanup after a failure). */
export function killAllWorkers(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

/**
 * Workers get the thread pool a Tessera server sizes for itself (the cores, unless
 * UV_THREADPOOL_SIZE says otherwise), so that argon2-raw hashes with the same pool as login.
 */
const WORKER_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? String(availableParallelism()),
};

export function startWorker<R>(script: string, spec: unknown, env: NodeJS.ProcessEnv = WORKER_ENV): WorkerHandle<R> {
  const child = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'pipe'], env });
  live.add(child);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  // One command at a time: the answer it waits for, or the failure that ended the worker.
  let pending:
    { event: 'warmed' | 'result'; resolve: (message: unknown) => void; reject: (error: Error) => void } | undefined;
  let failure: Error | undefined;
  let closing = false;
  const fail = (error: Error) => {
    failure ??= error;
    pending?.reject(failure);
    pending = undefined;
  };
  const answer = <T>(event: 'warmed' | 'result') =>
    new Promise<T>((resolve, reject) => {
      if (failure) reject(failure);
      else if (pending) reject(new Error(`${script}: a command was sent before the last one was answered`));
      else pending = { event, resolve: resolve as (message: unknown) => void, reject };
    });
  const command = <T>(line: string, event: 'warmed' | 'result') => {
    const answered = answer<T>(event);
    child.stdin.write(`${line}\n`);
    return answered;
  };

  createInterface({ input: child.stdout }).on('line', (line) => {
    let message: { event?: string; message?: string };
    try {
      message = JSON.parse(line) as typeof message;
    } catch {
      return; // a stray log line
    }
    if (message.event === 'failed') fail(new Error(`${script} failed: ${message.message}`));
    else if (pending && message.event === pending.event) {
      const { resolve } = pending;
      pending = undefined;
      resolve(message);
    }
  });
  // A write to a worker that has just died fails (EPIPE); its end, with its stderr, is reported
  // below, and the unhandled error would otherwise crash the bench before its cleanup.
  child.stdin.on('error', () => undefined);
  // 'close', not 'exit': stdout has been read to its end, so a "failed" line sent just before
  // exiting is not lost.
  child.on('close', (code, signal) => {
    live.delete(child);
    if (!closing || pending) fail(new Error(`${script} exited (${signal ?? code}) before its answer\n${stderr}`));
  });
  const warmed = command<unknown>(JSON.stringify(spec), 'warmed').then(() => undefined);
  // Whoever is not waiting yet must not see an unhandled rejection.
  warmed.catch(() => undefined);
  return {
    warmed,
    go: () => command<R>('go', 'result'),
    resume: () => command<unknown>('resume', 'warmed').then(() => undefined),
    close: () => {
      closing = true;
      child.stdin.end();
    },
    kill: () => child.kill('SIGKILL'),
  };
}
