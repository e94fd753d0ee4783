// argon2 runs on libuv's pool. Lowering those threads' priority lets the event loop win the CPU
// during a burst of logins; logins slow down instead. Linux only. Trade-off: bench/HISTORY.md.
import { readdirSync, readFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** The name libuv gives its pool threads (libuv >= 1.50: Node 24 has 1.52). */
const POOL_THREAD_NAME = 'libuv-worker';
const LOWEST_PRIORITY = 19;

/**
 * Lowers every thread of the pool by `steps` nice levels below the event loop's (at most to 19);
 * returns how many it changed. The pool starts with its first task, so call it after one
 * (PasswordHasher.warmUp). Where threads cannot be listed or are not named (not Linux, an older
 * libuv) it changes nothing and returns 0.
 */
export function lowerThreadPoolPriority(steps: number): number {
  let tasks: string[];
  try {
    tasks = readdirSync('/proc/self/task');
  } catch {
    return 0;
  }
  // Relative to the process's own nice value (`nice npm start`, systemd's Nice=): an absolute
  // value could otherwise raise the pool above the event loop.
  const target = Math.min(LOWEST_PRIORITY, getPriority() + steps);
  let lowered = 0;
  for (const task of tasks) {
    let name: string;
    try {
      name = readFileSync(`/proc/self/task/${task}/comm`, 'utf8').trim();
    } catch {
      continue; // the thread ended meanwhile
    }
    if (name !== POOL_THREAD_NAME) continue;
    // setpriority(2) on a thread id sets that thread's nice value alone (Linux).
    setPriority(Number(task), target);
    lowered++;
  }
  return lowered;
}
