// Interleaved rounds. The machines are shared and their speed drifts over a run: measured one
// after the other, `control` and `me` can see different machines. Running every scenario in
// several short rounds, interleaved (control, me, ..., control, me, ...), lets each ratio compare
// like with like. A refresh chain cannot be replayed, so `refresh` runs once, whole.
import type { ScenarioRow } from './report.js';

export const SINGLE_RUN_SCENARIOS: ReadonlySet<string> = new Set(['refresh']);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** One row from the rounds of one scenario: throughput averaged, latencies by median round. */
export function combineRounds(rounds: ScenarioRow[]): ScenarioRow {
  const [first] = rounds;
  if (!first) throw new Error('combineRounds needs at least one round');
  if (rounds.length === 1) return first;
  const failed = rounds.find((round) => !round.completed);
  if (failed) return failed;
  const requests = rounds.reduce((sum, round) => sum + round.requests, 0);
  const weighted = (pick: (row: ScenarioRow) => number | undefined) =>
    rounds.reduce((sum, round) => sum + (pick(round) ?? 0) * round.requests, 0) / Math.max(1, requests);
  const withDb = rounds.filter((round) => round.db);
  return {
    ...first,
    requests,
    requestsPerSecond: rounds.reduce((sum, round) => sum + round.requestsPerSecond, 0) / rounds.length,
    p50Ms: median(rounds.map((round) => round.p50Ms)),
    p99Ms: median(rounds.map((round) => round.p99Ms)),
    errors: rounds.reduce((sum, round) => sum + round.errors, 0),
    errorSamples: rounds.flatMap((round) => round.errorSamples).slice(0, 5),
    serverPeakRssMb: Math.max(...rounds.map((round) => round.serverPeakRssMb)),
    serverCpuUsPerRequest:
      first.serverCpuUsPerRequest === undefined ? undefined : weighted((row) => row.serverCpuUsPerRequest),
    db:
      withDb.length === rounds.length && first.db
        ? {
            ...first.db,
            transactions: weighted((row) => row.db?.transactions),
            statementsPerRequest:
              first.db.statementsPerRequest === undefined ? undefined : weighted((row) => row.db?.statementsPerRequest),
            beginsPerRequest:
              first.db.beginsPerRequest === undefined ? undefined : weighted((row) => row.db?.beginsPerRequest),
          }
        : first.db,
    alongside: first.alongside
      ? Object.fromEntries(
          Object.keys(first.alongside).map((label) => {
            const figures = rounds.map((round) => round.alongside![label]);
            return [
              label,
              {
                requestsPerSecond: figures.reduce((sum, figure) => sum + figure.requestsPerSecond, 0) / figures.length,
                p50Ms: median(figures.map((figure) => figure.p50Ms)),
                p99Ms: median(figures.map((figure) => figure.p99Ms)),
                errors: figures.reduce((sum, figure) => sum + figure.errors, 0),
              },
            ];
          }),
        )
      : undefined,
    workerPeakRssMb:
      first.workerPeakRssMb === undefined ? undefined : Math.max(...rounds.map((round) => round.workerPeakRssMb ?? 0)),
    rounds: rounds.map(({ requestsPerSecond, p50Ms, p99Ms }) => ({ requestsPerSecond, p50Ms, p99Ms })),
  };
}
