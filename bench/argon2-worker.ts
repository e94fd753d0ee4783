// The machine's hashing capacity: argon2id verify with Tessera's parameters, called directly with
// `concurrency` calls in flight (libuv's pool, as in the server), no HTTP, no database.
import argon2 from 'argon2';
import { readRssMb } from './proc-stats.js';
import type { Argon2Result, Argon2Spec } from './protocol.js';
import { measuredRate } from './stats.js';
import { runWorker, serveRounds } from './worker-io.js';

const PASSWORD = 'correct horse battery staple, for the bench';

async function verifyFor(spec: Argon2Spec, hash: string, seconds: number): Promise<Argon2Result> {
  const latencies: number[] = [];
  let errors = 0;
  let peakRssMb = readRssMb(process.pid);
  const sampler = setInterval(() => (peakRssMb = Math.max(peakRssMb, readRssMb(process.pid))), 100);
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const loop = async () => {
    while (performance.now() < deadline) {
      const begin = performance.now();
      const valid = await argon2.verify(hash, PASSWORD.normalize('NFKC'));
      if (!valid) errors++;
      latencies.push(performance.now() - begin);
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, loop));
  clearInterval(sampler);
  return { ...measuredRate(latencies, (performance.now() - started) / 1000), errors, peakRssMb };
}

let hash = '';
runWorker(() =>
  serveRounds<Argon2Spec, Argon2Result>({
    // Each run finishes its calls before it returns, so a window never pays for the one before.
    async start(spec, seconds) {
      hash ||= await argon2.hash(PASSWORD, {
        type: argon2.argon2id,
        memoryCost: spec.memoryKib,
        timeCost: spec.timeCost,
        parallelism: spec.parallelism,
      });
      if (seconds > 0) await verifyFor(spec, hash, seconds);
    },
    measure: (spec) => verifyFor(spec, hash, spec.durationSeconds),
    stop: () => Promise.resolve(),
  }),
);
