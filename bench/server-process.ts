// Tessera as its own production-mode process, started as `npm start` starts it (the same Node
// flags), with its peak memory sampled from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readRssMb } from './proc-stats.js';

export interface ServerProcess {
  readonly url: string;
  readonly pid: number;
  /** Samples the resident set every 100 ms until the returned function is called (peak, MB). */
  sampleRss(): () => number;
  /** SIGTERM, then waits for the drain; SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface ServerOptions {
  projectRoot: string;
  databaseUrl: string;
  /** Folder for the server's CPU profile (--cpu-prof), when profiling. */
  cpuProfileDir?: string;
}

const READY = /Tessera GraphQL API ready at (\S+)/;
// 48 characters from an alphabet without quoting trouble.
const secret = () => randomBytes(36).toString('base64url');

/** The server's environment: nothing inherited that could change its behaviour but the basics. */
function serverEnv(options: ServerOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    JWT_SECRET_KEY: secret(),
    MFA_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
    DATABASE_URL: options.databaseUrl,
    // The mail flows on, as register and requestPasswordReset need, with their mails queued and
    // never sent during the run: a mutation's cost is its queueing (sending is the worker's, off
    // the request), and a worker draining thousands of mails would slow the scenarios after it.
    // Production needs an SMTP server named: nothing listens on port 9 (discard) here.
    SMTP_URL: 'smtp://127.0.0.1:9',
    APP_URL: 'http://127.0.0.1',
    MAIL_POLL_INTERVAL: '3600',
    // All the load comes from 127.0.0.1: the per-IP limits (30 logins a minute) would turn the
    // login and refresh scenarios into a measure of rejections. The counters are still kept (one
    // upsert per attempt), so their cost is measured.
    RATE_LIMIT_IP_ATTEMPTS: '1000000',
    RATE_LIMIT_IP_REFRESHES: '1000000',
    // register, requestPasswordReset count the mails asked for per address too: the known
    // addresses are the seeded users', each asked for many times a run (the most allowed).
    RATE_LIMIT_MAIL_REQUESTS: '1000',
    // authEvents is read by an ADMIN without a second factor: the check it skips is one comparison.
    ADMIN_REQUIRE_MFA: 'false',
  };
  // Operator tuning knobs, passed through so that their effect can be measured.
  for (const name of [
    'UV_THREADPOOL_SIZE',
    'THREAD_POOL_NICE',
    'MALLOC_ARENA_MAX',
    'NODE_OPTIONS',
    'GRAPHQL_FAST_PATHS',
    'METRICS_PORT',
    'DATABASE_STATEMENT_POOL_SIZE',
  ])
    if (process.env[name]) env[name] = process.env[name];
  return env;
}

const START_COMMAND = /\bnode((?:\s+--[\w-]+(?:=\S+)?)*)\s+dist\/src\/main\.js\b/;

/**
 * The Node flags of package.json's `start` script (the heap sizing of README, Configuration), so
 * that the bench measures the server as operators run it; the script is their one home.
 */
export function startScriptNodeFlags(projectRoot: string): string[] {
  const manifest = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as {
    scripts?: { start?: string };
  };
  const match = START_COMMAND.exec(manifest.scripts?.start ?? '');
  if (!match) throw new Error('package.json: the start script does not run `node [flags] dist/src/main.js`');
  return match[1].trim().split(/\s+/).filter(Boolean);
}

export async function startServer(options: ServerOptions): Promise<ServerProcess> {
  const profiling = options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : [];
  const args = [
    ...startScriptNodeFlags(options.projectRoot),
    ...profiling,
    path.join(options.projectRoot, 'dist/src/main.js'),
  ];
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: options.projectRoot,
    env: serverEnv(options),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8000));
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Tessera did not start within 60 s:\n${output}`)), 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      keep(chunk);
      const match = READY.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Tessera exited (${code ?? child.signalCode}) before it was ready:\n${output}`));
    });
  });
  const pid = child.pid!;
  return {
    url,
    pid,
    sampleRss: () => {
      let peak = readRssMb(pid);
      const timer = setInterval(() => (peak = Math.max(peak, readRssMb(pid))), 100);
      return () => {
        clearInterval(timer);
        return Math.max(peak, readRssMb(pid));
      };
    },
    stop: async (graceMs = 20_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      if (child.exitCode !== 0)
        process.stderr.write(`Tessera stopped with ${child.signalCode ?? child.exitCode}:\n${output}\n`);
    },
  };
}
