// argon2id is built to cost CPU, and it runs on libuv's thread pool. At the event loop's
// priority, a burst of logins keeps every core busy and each other request waits for a time
// slice: the bench measured `me`'s p99 under login load at 17 ms against 5 ms idle. Linux keeps
// a nice value per thread, so the pool's threads are lowered once they exist; the event loop and
// a PostgreSQL on the same machine then take the CPU first, and hashing gets the rest.
import { readdirSync, readFileSync } from 'node:fs';
import { setPriority } from 'node:os';

/** The name libuv gives its pool threads (libuv >= 1.45, Node >= 20). */
const POOL_THREAD_NAME = 'libuv-worker';

/**
 * Gives every thread of the pool the nice value `nice`; returns how many it changed. The pool
 * starts with its first task, so call it after one (PasswordHasher.warmUp). Where threads cannot
 * be listed (not Linux) it changes nothing and returns 0.
 */
export function lowerThreadPoolPriority(nice: number): number {
  let tasks: string[];
  try {
    tasks = readdirSync('/proc/self/task');
  } catch {
    return 0;
  }
  let lowered = 0;
  for (const task of tasks) {
    try {
      if (readFileSync(`/proc/self/task/${task}/comm`, 'utf8').trim() !== POOL_THREAD_NAME) continue;
      // setpriority(2) on a thread id sets that thread's nice value alone (Linux).
      setPriority(Number(task), nice);
      lowered++;
    } catch {
      // the thread ended meanwhile
    }
  }
  return lowered;
}
