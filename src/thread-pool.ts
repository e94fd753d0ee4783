// argon2id is built to cost CPU, and it runs on libuv's thread pool. At the event loop's
// priority, a burst of logins keeps every core busy and each other request waits for a time
// slice: the bench measured `me`'s p99 under login load at 17 ms against 5 ms idle. Linux keeps
// a nice value per thread, so the pool's threads are lowered once they exist and the event loop
// takes the CPU first. The pool's other work (file system, DNS) is lowered with them; Tessera
// gives it little. Nice values rank threads within one scheduling group, so a PostgreSQL started
// elsewhere (systemd) is not affected either way. The level weighs other requests against
// logins while both want the CPU: at 2, the event loop got about half a core while logins ran,
// and `me`'s p99 under login load reached three times its idle p99; at 10 it got most of a core,
// and the logins alongside got half the rate. Hashing efficiency lost nothing measurable at 10 on
// the machine that chose it, though an earlier one measured a few per cent per level (README,
// Performance).
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
