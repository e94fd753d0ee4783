// The table, the targets (README, Performance), and bench/results.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DbWork } from './db-counters.js';

export interface ScenarioRow {
  name: string;
  what: string;
  completed: boolean;
  failure?: string;
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  errorSamples: string[];
  serverPeakRssMb: number;
  /** The server's CPU time (all threads) per request: its cost, whatever the load generator does. */
  serverCpuUsPerRequest?: number;
  db?: DbWork;
  /** Figures of the other workers of the scenario (the logins of me-under-login-load). */
  alongside?: Record<string, { requestsPerSecond: number; p50Ms: number; p99Ms: number; errors: number }>;
  workerPeakRssMb?: number;
  /** Each round's own figures, in order, when the scenario ran in several (results.json only). */
  rounds?: Array<{ requestsPerSecond: number; p50Ms: number; p99Ms: number }>;
}

export interface Target {
  name: string;
  value: number | undefined;
  goal: string;
  pass: boolean | undefined;
}

const RSS_LIMIT_MB = 250;
/** How far from 1 the ratio of two answers that must not tell each other apart may drift. */
const SAME_TIME_TOLERANCE = 0.1;

const ratio = (a?: number, b?: number) => (a !== undefined && b !== undefined && b > 0 ? a / b : undefined);

const check = (name: string, value: number | undefined, goal: string, test: (v: number) => boolean): Target => ({
  name,
  value,
  goal,
  pass: value === undefined ? undefined : test(value),
});

/** An answer that tells nothing takes the same time either way: the two sides' ratio is 1. */
function sameTime(name: string, side: ScenarioRow | undefined, other: ScenarioRow | undefined): Target[] {
  const within = (v: number) => v >= 1 - SAME_TIME_TOLERANCE && v <= 1 + SAME_TIME_TOLERANCE;
  const goal = `${1 - SAME_TIME_TOLERANCE} - ${1 + SAME_TIME_TOLERANCE}`;
  return [
    check(`${name} throughput`, ratio(side?.requestsPerSecond, other?.requestsPerSecond), goal, within),
    check(`${name} p50`, ratio(side?.p50Ms, other?.p50Ms), goal, within),
  ];
}

export function evaluateTargets(rows: ScenarioRow[]): Target[] {
  const row = (name: string) => rows.find((r) => r.name === name && r.completed);
  const me = row('me');
  const control = row('control');
  const login = row('login');
  const raw = row('argon2-raw');
  const underLoad = row('me-under-login-load');
  const refresh = row('refresh');
  const meQueries = me?.db ? (me.db.statementsPerRequest ?? me.db.transactions) : undefined;
  const peakRss = rows
    .filter((r) => r.completed)
    .reduce<number | undefined>((max, r) => Math.max(max ?? 0, r.serverPeakRssMb), undefined);
  return [
    check(
      'me / control throughput',
      ratio(me?.requestsPerSecond, control?.requestsPerSecond),
      '>= 0.85',
      (v) => v >= 0.85,
    ),
    check('me database queries per request', meQueries, '0 (steady state)', (v) => v < 0.005),
    check(
      'refresh / control throughput',
      ratio(refresh?.requestsPerSecond, control?.requestsPerSecond),
      '>= 0.15',
      (v) => v >= 0.15,
    ),
    // Requests in flight as a window opens or closes put a few per cent on a whole count (bench/README.md).
    check('refresh statements per request', refresh?.db?.statementsPerRequest, '<= 2', (v) => v < 2.05),
    check(
      'login / argon2-raw throughput',
      ratio(login?.requestsPerSecond, raw?.requestsPerSecond),
      '>= 0.85',
      (v) => v >= 0.85,
    ),
    check('me p99 under login load / idle me p99', ratio(underLoad?.p99Ms, me?.p99Ms), '<= 3', (v) => v <= 3),
    check('server peak RSS, every scenario (MB)', peakRss, `< ${RSS_LIMIT_MB}`, (v) => v < RSS_LIMIT_MB),
    ...sameTime('register taken / new email', row('register-taken'), row('register-new')),
    ...sameTime('requestPasswordReset known / unknown', row('reset-known'), row('reset-unknown')),
  ];
}

const fixed = (value: number | undefined, digits: number) => (value === undefined ? '-' : value.toFixed(digits));

function formatTable(header: string[], lines: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((line) => line[i].length)));
  const render = (cells: string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  return [render(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(render)].join('\n');
}

export function renderReport(rows: ScenarioRow[], targets: Target[], statementsCounted: boolean): string {
  const header = [
    'scenario',
    'req/s',
    'p50 ms',
    'p99 ms',
    'errors',
    'server CPU µs/req',
    'peak RSS MB',
    statementsCounted ? 'statements/req' : 'statements/req*',
    'xacts/req',
  ];
  const lines = rows.map((r) =>
    r.completed
      ? [
          r.name,
          fixed(r.requestsPerSecond, 1),
          fixed(r.p50Ms, 1),
          fixed(r.p99Ms, 1),
          String(r.errors),
          r.serverCpuUsPerRequest === undefined ? '-' : fixed(r.serverCpuUsPerRequest, 0),
          fixed(r.serverPeakRssMb, 0),
          r.db ? fixed(r.db.statementsPerRequest ?? r.db.transactions, 2) : '-',
          r.db ? fixed(r.db.transactions, 2) : '-',
        ]
      : [r.name, 'FAILED', '', '', '', '', '', '', ''],
  );
  const out = [formatTable(header, lines)];
  for (const r of rows) {
    for (const [label, figures] of Object.entries(r.alongside ?? {})) {
      out.push(
        `  ${r.name}: ${label} alongside at ${figures.requestsPerSecond.toFixed(1)} req/s, p50 ${figures.p50Ms.toFixed(1)} ms, p99 ${figures.p99Ms.toFixed(1)} ms, ${figures.errors} errors`,
      );
    }
  }
  if (!statementsCounted)
    out.push(
      '  * pg_stat_statements is not loaded on this server: statements/req shows transactions/req (pg_stat_database).',
    );
  out.push(
    '',
    formatTable(
      ['target', 'value', 'goal', 'result'],
      targets.map((t) => [t.name, fixed(t.value, 3), t.goal, t.pass === undefined ? 'n/a' : t.pass ? 'PASS' : 'MISS']),
    ),
  );
  const refresh = rows.find((r) => r.name === 'refresh' && r.completed);
  if (refresh?.db?.breakdown?.length) {
    out.push(
      '',
      `refresh, statements per request (${refresh.db.beginsPerRequest?.toFixed(2)} explicit transactions per request):`,
    );
    for (const s of refresh.db.breakdown) out.push(`  ${s.perRequest.toFixed(2)}  ${s.query}`);
  }
  for (const r of rows) {
    if (r.failure) out.push(`${r.name} did not complete: ${r.failure.split('\n')[0]}`);
    for (const sample of r.errorSamples) out.push(`${r.name} error sample: ${sample}`);
  }
  return out.join('\n');
}

export function machine() {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpu: cpus[0]?.model ?? 'unknown',
    memoryGb: Math.round(os.totalmem() / 1024 ** 3),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    uvThreadpoolSize: process.env.UV_THREADPOOL_SIZE ?? `default (the cores: ${os.availableParallelism()})`,
  };
}

export function writeResults(file: string, results: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
}
