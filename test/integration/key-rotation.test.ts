// A key rotation as an operator runs it, with real server processes in sequence on one database:
// A signs with key 1; B signs with key 2 and lists key 1 as previous, so that the tokens A issued
// keep working and a refresh moves them onto key 2; C has key 2 alone, and key 1's tokens are
// TOKEN_INVALID. Nobody who refreshed during B's time has to log in again.
import { createPublicKey, randomBytes } from 'node:crypto';
import { jwkThumbprint, secretKid } from '../../src/auth/keys.js';
import { generatePrivateKeyPem, type Env } from '../../src/config.js';
import { decodeJwt } from '../helpers/fixtures.js';
import type { AuthPayload, GraphQLClient } from '../helpers/graphql-client.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { PASSWORD, REFRESH } from '../helpers/session-helpers.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const PROCESS_START_MS = 60_000;
const ME = '{ me { id } }';

interface RotationCase {
  name: string;
  /** The environment of A (key 1), B (key 2, key 1 previous) and C (key 2 alone). */
  withKey1: Env;
  withKey2AndKey1Previous: Env;
  withKey2: Env;
  kid1: string;
  kid2: string;
}

function es256Case(): RotationCase {
  const key1 = generatePrivateKeyPem('ES256');
  const key2 = generatePrivateKeyPem('ES256');
  const publicKey1 = createPublicKey(key1);
  return {
    name: 'ES256, the old key in JWT_PREVIOUS_PUBLIC_KEYS',
    withKey1: { JWT_ALGORITHM: 'ES256', JWT_PRIVATE_KEY: key1 },
    withKey2AndKey1Previous: {
      JWT_ALGORITHM: 'ES256',
      JWT_PRIVATE_KEY: key2,
      JWT_PREVIOUS_PUBLIC_KEYS: publicKey1.export({ type: 'spki', format: 'pem' }).toString(),
    },
    withKey2: { JWT_ALGORITHM: 'ES256', JWT_PRIVATE_KEY: key2 },
    kid1: jwkThumbprint(publicKey1),
    kid2: jwkThumbprint(createPublicKey(key2)),
  };
}

function hs256Case(): RotationCase {
  const secret1 = randomBytes(48).toString('base64url');
  const secret2 = randomBytes(48).toString('base64url');
  return {
    name: 'HS256, the old secret in JWT_PREVIOUS_SECRET_KEYS',
    withKey1: { JWT_SECRET_KEY: secret1 },
    withKey2AndKey1Previous: { JWT_SECRET_KEY: secret2, JWT_PREVIOUS_SECRET_KEYS: secret1 },
    withKey2: { JWT_SECRET_KEY: secret2 },
    kid1: secretKid(Buffer.from(secret1)),
    kid2: secretKid(Buffer.from(secret2)),
  };
}

async function meResult(client: GraphQLClient, accessToken: string) {
  const result = await client.request(ME, {}, { token: accessToken });
  return { id: result.data?.me?.id as string | undefined, reason: result.errors?.[0]?.extensions?.reason };
}

async function refreshResult(client: GraphQLClient, refreshToken: string) {
  const result = await client.request(REFRESH, { t: refreshToken });
  return { tokens: result.data?.refresh as AuthPayload | undefined, reason: result.errors?.[0]?.extensions?.reason };
}

function kidOf(token: string): unknown {
  return decodeJwt(token).header.kid;
}

describe.each([es256Case(), hs256Case()])('a rotation with $name', (rotation) => {
  let database: TestDatabase;
  let running: ServerProcess | undefined;
  /** Signed up on A: the session whose refresh token B rotates. */
  let refreshed: AuthPayload;
  /** Logged in on A: a session whose key-1 tokens are never exchanged. */
  let untouched: AuthPayload;
  /** What B's refresh of `refreshed` returned: key-2 tokens. */
  let rotated: AuthPayload;

  async function run(env: Env): Promise<ServerProcess> {
    await running?.stop();
    running = await startServerProcess({ DATABASE_URL: database.url, ...env });
    return running;
  }

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await running?.stop();
    await database?.drop();
  });

  test(
    'process A signs with key 1',
    async () => {
      const a = await run(rotation.withKey1);
      refreshed = await a.client.signup('rotated', PASSWORD);
      const login = await a.client.login('rotated', PASSWORD);
      untouched = login.data!.login;
      for (const token of [
        refreshed.accessToken,
        refreshed.refreshToken,
        untouched.accessToken,
        untouched.refreshToken,
      ])
        expect(kidOf(token)).toBe(rotation.kid1);
      expect(rotation.kid2).not.toBe(rotation.kid1);
    },
    PROCESS_START_MS,
  );

  test(
    "process B, with key 2 and key 1 as previous, accepts key 1's access token and refreshes onto key 2",
    async () => {
      const b = await run(rotation.withKey2AndKey1Previous);
      expect(await meResult(b.client, refreshed.accessToken)).toEqual({ id: refreshed.user.id, reason: undefined });
      const { tokens, reason } = await refreshResult(b.client, refreshed.refreshToken);
      expect(reason).toBeUndefined();
      rotated = tokens!;
      expect(decodeJwt(rotated.accessToken).header).toMatchObject({ typ: 'at+jwt', kid: rotation.kid2 });
      expect(decodeJwt(rotated.refreshToken).header).toMatchObject({ typ: 'refresh+jwt', kid: rotation.kid2 });
      expect(decodeJwt(rotated.refreshToken).payload.sid).toBe(decodeJwt(refreshed.refreshToken).payload.sid);
      expect(await meResult(b.client, rotated.accessToken)).toEqual({ id: refreshed.user.id, reason: undefined });
      // The session that did not refresh still works on B too.
      expect(await meResult(b.client, untouched.accessToken)).toEqual({ id: untouched.user.id, reason: undefined });
    },
    PROCESS_START_MS,
  );

  test(
    "process C, with key 2 alone, refuses key 1's tokens as TOKEN_INVALID",
    async () => {
      const c = await run(rotation.withKey2);
      expect(await meResult(c.client, refreshed.accessToken)).toEqual({ id: undefined, reason: 'TOKEN_INVALID' });
      expect(await meResult(c.client, untouched.accessToken)).toEqual({ id: undefined, reason: 'TOKEN_INVALID' });
      // Never presented before: refused for its key, not as a reuse.
      expect(await refreshResult(c.client, untouched.refreshToken)).toEqual({
        tokens: undefined,
        reason: 'TOKEN_INVALID',
      });
    },
    PROCESS_START_MS,
  );

  test('process C accepts the key-2 tokens B issued: the user who refreshed stays logged in', async () => {
    const c = running!;
    expect(await meResult(c.client, rotated.accessToken)).toEqual({ id: refreshed.user.id, reason: undefined });
    const { tokens, reason } = await refreshResult(c.client, rotated.refreshToken);
    expect(reason).toBeUndefined();
    expect(kidOf(tokens!.accessToken)).toBe(rotation.kid2);
    expect(await meResult(c.client, tokens!.accessToken)).toEqual({ id: refreshed.user.id, reason: undefined });
  });
});

describe('a start with a previous key that cannot verify', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database?.drop());

  const es256 = generatePrivateKeyPem('ES256');
  const rsaPublic = createPublicKey(generatePrivateKeyPem('RS256')).export({ type: 'spki', format: 'pem' }).toString();
  /** The lines between BEGIN and END: what must never reach a log. */
  const bodyOf = (pem: string) => pem.split('\n').filter((line) => line !== '' && !line.startsWith('-----'));

  test.each([
    {
      name: 'an RSA public key when ES256 is configured',
      env: { JWT_ALGORITHM: 'ES256', JWT_PRIVATE_KEY: es256, JWT_PREVIOUS_PUBLIC_KEYS: rsaPublic },
      variable: 'JWT_PREVIOUS_PUBLIC_KEYS (key 1)',
      secretText: bodyOf(rsaPublic),
    },
    {
      name: 'a PEM block that holds no key',
      env: {
        JWT_ALGORITHM: 'ES256',
        JWT_PRIVATE_KEY: es256,
        JWT_PREVIOUS_PUBLIC_KEYS:
          '-----BEGIN PUBLIC KEY-----\nTm90QUtleUJ1dEFTZWNyZXRUZXh0\n-----END PUBLIC KEY-----\n',
      },
      variable: 'JWT_PREVIOUS_PUBLIC_KEYS',
      secretText: ['Tm90QUtleUJ1dEFTZWNyZXRUZXh0'],
    },
    {
      name: 'a path to no file',
      env: {
        JWT_ALGORITHM: 'ES256',
        JWT_PRIVATE_KEY: es256,
        JWT_PREVIOUS_PUBLIC_KEYS: '/nonexistent/previous-key.pem',
      },
      variable: 'JWT_PREVIOUS_PUBLIC_KEYS',
      secretText: [...bodyOf(es256), '/nonexistent/previous-key.pem'],
    },
    {
      name: 'a previous HS256 secret that is too short',
      env: { JWT_SECRET_KEY: randomBytes(48).toString('base64url'), JWT_PREVIOUS_SECRET_KEYS: 'shortSecretQx7' },
      variable: 'JWT_PREVIOUS_SECRET_KEYS (key 1)',
      secretText: ['shortSecretQx7'],
    },
  ])('refuses $name: exit 78, the variable named, no key material echoed', async ({ env, variable, secretText }) => {
    const started = await startServerProcess({ DATABASE_URL: database.url, ...env }).then(
      async (server) => {
        await server.stop();
        return 'started';
      },
      (error: Error) => error.message,
    );
    expect(started).toMatch(/^server exited with 78:/);
    expect(started).toContain(`cannot start: ${variable}`);
    for (const text of secretText) expect(started).not.toContain(text);
  });
});
