import type { MeasuredRate } from './protocol.js';

/** The p-th percentile of ascending `sorted` (nearest rank); 0 when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? 0;
}

/** The rate and the latency percentiles of the calls that took `latencies` (ms; sorted in place) in `seconds`. */
export function measuredRate(latencies: number[], seconds: number): MeasuredRate {
  const sorted = latencies.sort((a, b) => a - b);
  return {
    event: 'result',
    requests: sorted.length,
    seconds,
    requestsPerSecond: sorted.length / seconds,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
  };
}
