// The `--scale` half of a run: after the small seed's scenarios, the database is grown in SQL
// (scale.ts), the same scenarios run again with new tokens, and myTasks runs twice more,
// without and then during a purge of the grown backlog. Ratios are grown / small, in one run.
import { loadConfig } from '../src/config.js';
import type { BenchDatabase } from './database.js';
import type { BenchOptions } from './options.js';
import type { ScenarioRow } from './report.js';
import type { Scenario } from './scenarios.js';
import {
  growDatabase,
  hotStatements,
  namedPlans,
  resetStatementStats,
  runPurge,
  scaleCounts,
  tableSizes,
  type HotStatement,
  type PurgeFigures,
  type ScaleCounts,
  type TableSize,
} from './scale.js';
import { renewSeed, type Seed } from './seed.js';
import type { ServerProcess } from './server-process.js';

/** The scenarios whose throughput must stay within this of the small seed's. */
const FLAT_SCENARIOS = ['me', 'login', 'refresh', 'myTasks', 'authEvents'];
const FLAT_LIMIT = 1.2;
const PURGE_P99_LIMIT = 2;

export interface ScaledResults {
  factor: number;
  counts: ScaleCounts;
  growSeconds: number;
  scenarios: ScenarioRow[];
  /** Small-seed throughput / grown throughput, per scenario (1.2 at most is the target). */
  slowdown: Record<string, number | undefined>;
  purgeUnderLoad: { without: ScenarioRow; during: ScenarioRow; p99Ratio: number | undefined; purge: PurgeFigures };
  tables: TableSize[];
  hotStatements: HotStatement[];
  /** EXPLAIN ANALYZE (rolled back) of the statements that grow with the tables. */
  plans: Record<string, string>;
  targets: Array<{ name: string; value: number | undefined; goal: string; pass: boolean | undefined }>;
}

export interface ScaleContext {
  options: BenchOptions;
  database: BenchDatabase;
  server: ServerProcess;
  data: Seed;
  smallRows: ScenarioRow[];
  measureAll: (seeded: Seed) => Promise<ScenarioRow[]>;
  scenariosFor: (durationSeconds: number, seeded?: Seed) => Scenario[];
  runScenario: (scenario: Scenario) => Promise<{ row: ScenarioRow }>;
  log: (message: string) => void;
}

export async function measureScaled(context: ScaleContext): Promise<ScaledResults> {
  const { options, database, server, data, log } = context;
  const factor = options.scale ?? 1;
  const counts = scaleCounts(factor);
  log(`--scale ${factor}: growing the database in SQL`);
  const growSeconds = await growDatabase(database.countersUrl, counts, log);
  log(`grown in ${growSeconds.toFixed(0)} s`);
  await resetStatementStats(database.countersUrl);

  const grown = await renewSeed(server.url, data);
  const scenarios = await context.measureAll(grown);
  const hot = await hotStatements(database.countersUrl);
  const tables = await tableSizes(database.countersUrl);
  const plans = await namedPlans(database.countersUrl);

  const probe = (): Scenario =>
    context.scenariosFor(Math.max(2, options.durationSeconds / 2), grown).find((s) => s.name === 'myTasks')!;
  log('myTasks without a purge');
  const without = (await context.runScenario(probe())).row;
  const { config } = loadConfig({ NODE_ENV: 'test' });
  log('myTasks during a purge of the grown backlog');
  const purging = runPurge(
    database.countersUrl,
    config.audit.retentionSeconds,
    config.sessions.revokedRetentionSeconds,
  );
  const during = (await context.runScenario(probe())).row;
  const purge = await purging;
  log(
    `purge: ${purge.sessions.deleted} sessions, ${purge.events.deleted} events, ${purge.counters.deleted} counters in ${purge.seconds.toFixed(1)} s`,
  );

  const rate = (rows: ScenarioRow[], name: string) =>
    rows.find((r) => r.name === name && r.completed)?.requestsPerSecond;
  const slowdown = Object.fromEntries(
    FLAT_SCENARIOS.map((name) => {
      const small = rate(context.smallRows, name);
      const big = rate(scenarios, name);
      return [name, small !== undefined && big ? Math.round((small / big) * 1000) / 1000 : undefined];
    }),
  );
  const p99Ratio = without.p99Ms > 0 ? Math.round((during.p99Ms / without.p99Ms) * 100) / 100 : undefined;
  const targets = [
    ...FLAT_SCENARIOS.map((name) => ({
      name: `${name} small-seed / grown throughput`,
      value: slowdown[name],
      goal: `<= ${FLAT_LIMIT}`,
      pass: slowdown[name] === undefined ? undefined : slowdown[name] <= FLAT_LIMIT,
    })),
    {
      name: 'myTasks p99 during a purge / without',
      value: p99Ratio,
      goal: `<= ${PURGE_P99_LIMIT}`,
      pass: p99Ratio === undefined ? undefined : p99Ratio <= PURGE_P99_LIMIT,
    },
  ];
  return {
    factor,
    counts,
    growSeconds,
    scenarios,
    slowdown,
    purgeUnderLoad: { without, during, p99Ratio, purge },
    tables,
    hotStatements: hot,
    plans,
    targets,
  };
}

/** The grown run's lines for stdout. */
export function renderScaled(scaled: ScaledResults): string {
  const lines = [
    '',
    `Grown database (--scale ${scaled.factor}: ${scaled.counts.users} users, ${scaled.counts.sessions} sessions, ${scaled.counts.events} events, ${scaled.counts.tasks} tasks; grown in ${scaled.growSeconds.toFixed(0)} s)`,
    '| scenario | req/s | p50 ms | p99 ms | errors | small / grown |',
    '| --- | --- | --- | --- | --- | --- |',
    ...scaled.scenarios.map(
      (r) =>
        `| ${r.name} | ${r.requestsPerSecond.toFixed(0)} | ${r.p50Ms.toFixed(1)} | ${r.p99Ms.toFixed(1)} | ${r.errors} | ${scaled.slowdown[r.name] ?? ''} |`,
    ),
    '',
    `myTasks p99 ${scaled.purgeUnderLoad.without.p99Ms.toFixed(1)} ms without a purge, ${scaled.purgeUnderLoad.during.p99Ms.toFixed(1)} ms during (${scaled.purgeUnderLoad.p99Ratio}); the purge deleted ${scaled.purgeUnderLoad.purge.sessions.deleted} sessions, ${scaled.purgeUnderLoad.purge.events.deleted} events, ${scaled.purgeUnderLoad.purge.counters.deleted} counters in ${scaled.purgeUnderLoad.purge.seconds.toFixed(1)} s`,
    '',
    '| table | rows | MB |',
    '| --- | --- | --- |',
    ...scaled.tables.map((t) => `| ${t.table} | ${t.rows} | ${t.totalMb} |`),
    '',
    ...Object.entries(scaled.plans).flatMap(([name, plan]) => [`${name}:`, ...plan.split('\n').map((l) => `    ${l}`)]),
    '',
    ...scaled.targets.map(
      (t) => `${t.pass === false ? 'MISSED' : t.pass ? 'met' : '-'}  ${t.name}: ${t.value ?? '-'} (${t.goal})`,
    ),
  ];
  return lines.join('\n');
}
