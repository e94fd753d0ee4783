// The parent side of the protocol: start a worker script as its own Node process, hand it the
// spec, and let the bench decide when its measurement starts (after every worker has warmed up).
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';

export interface WorkerHandle<R> {
  /** Resolves once the worker has finished its warm-up. */
  readonly warmed: Promise<void>;
  /** Starts the measurement; resolves with the worker's result. */
  go(): Promise<R>;
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
const WORKER_ENV: NodeJS.ProcessEnv = { ...process.env, UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? String(availableParallelism()) };

export function startWorker<R>(script: string, spec: unknown, env: NodeJS.ProcessEnv = WORKER_ENV): WorkerHandle<R> {
  const child = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'pipe'], env });
  live.add(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const messages = createInterface({ input: child.stdout! });
  let onWarmed!: () => void;
  let onResult!: (result: R) => void;
  let onFailure!: (error: Error) => void;
  const warmed = new Promise<void>((resolve, reject) => {
    onWarmed = resolve;
    onFailure = reject;
  });
  const result = new Promise<R>((resolve, reject) => {
    onResult = resolve;
    const previous = onFailure;
    onFailure = (error) => {
      previous(error);
      reject(error);
    };
  });
  // Whoever is not waiting yet must not see an unhandled rejection.
  warmed.catch(() => undefined);
  result.catch(() => undefined);
  messages.on('line', (line) => {
    let message: { event?: string; message?: string };
    try {
      message = JSON.parse(line) as typeof message;
    } catch {
      return; // a stray log line
    }
    if (message.event === 'warmed') onWarmed();
    else if (message.event === 'result') onResult(message as R);
    else if (message.event === 'failed') onFailure(new Error(`${script} failed: ${message.message}`));
  });
  child.on('exit', (code, signal) => {
    live.delete(child);
    onFailure(new Error(`${script} exited (${signal ?? code}) before its result\n${stderr}`));
  });
  child.stdin!.write(`${JSON.stringify(spec)}\n`);
  return {
    warmed,
    go: () => {
      child.stdin!.write('go\n');
      return result;
    },
    kill: () => child.kill('SIGKILL'),
  };
}
