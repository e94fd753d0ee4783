// Tessera as a separate OS process, started from the build made in global setup: what an
// operator runs, several times over one database.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Env } from '../../src/config.js';
import { GraphQLClient } from './graphql-client.js';
import { TEST_ENV } from './test-server.js';

export function buildPath(...parts: string[]): string {
  const buildDir = process.env.TESSERA_TEST_BUILD_DIR;
  if (!buildDir) throw new Error('TESSERA_TEST_BUILD_DIR is not set: run the tests through `npm test`');
  return path.join(buildDir, ...parts);
}

export interface ServerProcess {
  readonly url: string;
  readonly pid: number;
  readonly client: GraphQLClient;
  stop(): Promise<void>;
}

export async function startServerProcess(env: Env): Promise<ServerProcess> {
  const child = spawn(process.execPath, [buildPath('src', 'main.js')], {
    env: { PATH: process.env.PATH, ...TEST_ENV, LOG_LEVEL: 'warn', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /ready at (http:\/\/\S+)/.exec(output);
      if (match) resolve(match[1]);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
  return {
    url,
    pid: child.pid!,
    client: new GraphQLClient(url),
    stop: () => stopProcess(child),
  };
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** Runs a compiled CLI of the project with `input` on stdin. */
export function runCli(
  script: string,
  args: string[],
  env: Env,
  input = '',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [buildPath('src', 'cli', script), ...args], {
      env: { PATH: process.env.PATH, ...TEST_ENV, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}
