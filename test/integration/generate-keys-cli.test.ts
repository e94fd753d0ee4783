// `npm run keys:generate -- --alg ALG`, as the README gives it: what it prints is a key that
// Tessera accepts as JWT_PRIVATE_KEY, and the kid it prints is the one Tessera's tokens carry and
// the RFC 7638 thumbprint that jose computes. npm builds the project first, hence the long timeout.
import { createPublicKey } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import { loadConfig, type AsymmetricAlgorithm } from '../../src/config.js';
import { decodeJwt } from '../helpers/fixtures.js';
import { runProcess, type ProcessRun } from '../helpers/run-process.js';
import { runCli } from '../helpers/server-process.js';
import { startTestServer, TEST_ENV } from '../helpers/test-server.js';

const ONE_BUILD_MS = 60_000;
const ALGORITHMS: AsymmetricAlgorithm[] = ['ES256', 'RS256', 'PS256', 'EdDSA'];

interface PrintedKey {
  kid: string;
  privateKeyPem: string;
  publicKeyPem: string;
}

/** The three parts of the output, each found after the comment line that names it. */
function parseOutput(stdout: string): PrintedKey {
  const kid = /^# kid: (\S+)$/m.exec(stdout)?.[1];
  const privateKeyPem =
    /^# JWT_PRIVATE_KEY.*\n(-----BEGIN PRIVATE KEY-----\n[\s\S]+?\n-----END PRIVATE KEY-----)$/m.exec(stdout)?.[1];
  const publicKeyPem = /^# Public key.*\n(-----BEGIN PUBLIC KEY-----\n[\s\S]+?\n-----END PUBLIC KEY-----)$/m.exec(
    stdout,
  )?.[1];
  if (!kid || !privateKeyPem || !publicKeyPem) throw new Error(`unexpected output:\n${stdout}`);
  return { kid, privateKeyPem, publicKeyPem };
}

function keyConfig(algorithm: AsymmetricAlgorithm, privateKeyPem: string) {
  return loadConfig({
    ...TEST_ENV,
    JWT_ALGORITHM: algorithm,
    JWT_PRIVATE_KEY: privateKeyPem,
    TESSERA_DATA_DIR: path.join(tmpdir(), 'tessera-test-unused-data'),
  }).config;
}

describe('npm run keys:generate', () => {
  let run: ProcessRun;

  beforeAll(async () => {
    run = await runProcess('npm', ['run', '--silent', 'keys:generate', '--', '--alg', 'ES256'], {
      cwd: process.cwd(),
      env: process.env,
    });
  }, ONE_BUILD_MS);

  test('prints an ES256 key with its kid and exits 0', () => {
    expect({ code: run.code, stdout: run.stdout }).toEqual({
      code: 0,
      stdout: expect.stringMatching(/^# A new ES256 signing key/),
    });
    const printed = parseOutput(run.stdout);
    expect(keyConfig('ES256', printed.privateKeyPem).jwt.keys).toMatchObject({
      algorithm: 'ES256',
      privateKeyPem: printed.privateKeyPem,
    });
  });
});

describe.each(ALGORITHMS)('the built keys:generate --alg %s', (algorithm) => {
  let run: { code: number | null; stdout: string; stderr: string };
  let printed: PrintedKey;

  beforeAll(async () => {
    run = await runCli('generate-keys.js', ['--alg', algorithm], {});
    printed = parseOutput(run.stdout);
  });

  test('exits 0 and prints nothing on stderr', () => {
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
  });

  test("prints a private key that loadConfig accepts as JWT_PRIVATE_KEY, and that key's public half", () => {
    expect(keyConfig(algorithm, printed.privateKeyPem).jwt.keys.algorithm).toBe(algorithm);
    const publicHalf = createPublicKey(printed.privateKeyPem).export({ type: 'spki', format: 'pem' }).toString();
    expect(publicHalf.trimEnd()).toBe(printed.publicKeyPem);
  });

  test("prints the kid jose computes as the public key's RFC 7638 thumbprint", async () => {
    const jwk = await exportJWK(createPublicKey(printed.publicKeyPem));
    expect(printed.kid).toBe(await calculateJwkThumbprint(jwk, 'sha256'));
  });

  test('prints the kid that a server signing with the key puts in its tokens', async () => {
    const app = await startTestServer({
      JWT_ALGORITHM: algorithm,
      JWT_PRIVATE_KEY: printed.privateKeyPem,
      JWT_SECRET_KEY: undefined,
    });
    try {
      const { accessToken, refreshToken } = await app.client.signup('keyholder');
      expect(decodeJwt(accessToken).header).toEqual({ alg: algorithm, typ: 'at+jwt', kid: printed.kid });
      expect(decodeJwt(refreshToken).header.kid).toBe(printed.kid);
    } finally {
      await app.stop();
    }
  });
});

describe('the built keys:generate with bad options', () => {
  test.each([
    { name: 'an unknown --alg', args: ['--alg', 'HS512'], message: /unknown algorithm HS512/ },
    { name: 'HS256, whose key is a secret', args: ['--alg', 'HS256'], message: /unknown algorithm HS256/ },
    { name: 'no --alg', args: [], message: /--alg is required/ },
    { name: 'an unknown option', args: ['--alg', 'ES256', '--bits', '4096'], message: /--bits/ },
  ])('refuses $name with exit code 64 and the usage, printing no key', async ({ args, message }) => {
    const run = await runCli('generate-keys.js', args, {});
    expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 64, stdout: '' });
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/usage: npm run keys:generate -- --alg RS256\|PS256\|ES256\|EdDSA/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  test('--help prints the usage on stdout and exits 0', async () => {
    const run = await runCli('generate-keys.js', ['--help'], {});
    expect({ code: run.code, stdout: run.stdout }).toEqual({
      code: 0,
      stdout: expect.stringMatching(/^usage: npm run keys:generate -- --alg/),
    });
  });
});
