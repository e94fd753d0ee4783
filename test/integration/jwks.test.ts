// The JWKS and the discovery document, read by a client nobody here wrote: jose's
// createRemoteJWKSet fetches the keys over real HTTP from a real server and jwtVerify checks
// Tessera's access tokens with them, for every asymmetric algorithm, before and after a rotation.
import { createPublicKey } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { calculateJwkThumbprint, createRemoteJWKSet, errors, jwtVerify, type JWK } from 'jose';
import { jwkThumbprint } from '../../src/auth/keys.js';
import { generatePrivateKeyPem, type AsymmetricAlgorithm, type Env } from '../../src/config.js';
import { decodeJwt } from '../helpers/fixtures.js';
import { PASSWORD } from '../helpers/session-helpers.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { freePort, startTestServer, type TestServer } from '../helpers/test-server.js';

const JWKS_PATH = '/.well-known/jwks.json';
const DISCOVERY_PATH = '/.well-known/openid-configuration';
const ALGORITHMS: AsymmetricAlgorithm[] = ['ES256', 'RS256', 'PS256', 'EdDSA'];

/** The public members each key type must publish, and the private ones it must never. */
const PUBLIC_MEMBERS: Record<AsymmetricAlgorithm, Record<string, unknown>> = {
  ES256: { kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String) },
  RS256: { kty: 'RSA', n: expect.any(String), e: 'AQAB' },
  PS256: { kty: 'RSA', n: expect.any(String), e: 'AQAB' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519', x: expect.any(String) },
};
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

let database: TestDatabase;
const servers: TestServer[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
  await database?.drop();
});

function origin(app: TestServer): string {
  return new URL(app.url).origin;
}

/** A server on this file's database signing with `privateKeyPem`, its issuer its own address. */
async function startSigning(algorithm: AsymmetricAlgorithm, privateKeyPem: string, env: Env = {}): Promise<TestServer> {
  const port = await freePort();
  const app = await startTestServer(
    {
      JWT_ALGORITHM: algorithm,
      JWT_PRIVATE_KEY: privateKeyPem,
      JWT_SECRET_KEY: undefined,
      JWT_ISSUER: `http://127.0.0.1:${port}`,
      ...env,
    },
    database,
    { port },
  );
  servers.push(app);
  return app;
}

async function getJson(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers });
  const text = await response.text();
  return { response, body: text === '' ? undefined : (JSON.parse(text) as Record<string, any>) };
}

function verifyWithJose(app: TestServer, token: string, algorithm: AsymmetricAlgorithm, jwksUrl?: string) {
  const jwks = createRemoteJWKSet(new URL(jwksUrl ?? `${origin(app)}${JWKS_PATH}`));
  return jwtVerify(token, jwks, {
    issuer: app.config.jwt.issuer,
    audience: app.config.jwt.audience,
    algorithms: [algorithm],
    typ: 'at+jwt',
  });
}

function publicPem(privateKeyPem: string): string {
  return createPublicKey(privateKeyPem).export({ type: 'spki', format: 'pem' }).toString();
}

let userCount = 0;
/** A new user signed up on `app`: its access token and its id. */
async function signUp(app: TestServer): Promise<{ accessToken: string; userId: string }> {
  const payload = await app.client.signup(`jwks${++userCount}`, PASSWORD);
  return { accessToken: payload.accessToken, userId: payload.user.id };
}

describe.each(ALGORITHMS)('a server signing with %s', (algorithm) => {
  let app: TestServer;

  beforeAll(async () => {
    app = await startSigning(algorithm, generatePrivateKeyPem(algorithm));
  });

  test("has its access tokens verified by jose's createRemoteJWKSet and jwtVerify", async () => {
    const { accessToken, userId } = await signUp(app);
    const { payload, protectedHeader } = await verifyWithJose(app, accessToken, algorithm);
    expect(protectedHeader).toEqual({ alg: algorithm, typ: 'at+jwt', kid: expect.any(String) });
    expect(payload).toMatchObject({ sub: userId, iss: origin(app), aud: 'tessera' });
  });

  test('publishes one key with kid, kty, alg, use "sig" and its public members only', async () => {
    const { response, body } = await getJson(`${origin(app)}${JWKS_PATH}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/jwk-set\+json/);
    expect(Object.keys(body!)).toEqual(['keys']);
    expect(body!.keys).toHaveLength(1);
    const [key] = body!.keys as JWK[];
    expect(key).toEqual({ ...PUBLIC_MEMBERS[algorithm], kid: expect.any(String), alg: algorithm, use: 'sig' });
    for (const member of PRIVATE_MEMBERS) expect(key).not.toHaveProperty(member);
    expect(key.kid).toBe(await calculateJwkThumbprint(key, 'sha256'));
    const { accessToken } = await signUp(app);
    expect(decodeJwt(accessToken).header.kid).toBe(key.kid);
  });

  test('answers with Cache-Control public, max-age=600, an ETag, a 304 for it, and CORS open to any origin', async () => {
    const url = `${origin(app)}${JWKS_PATH}`;
    const first = await fetch(url, { headers: { origin: 'https://gateway.example' } });
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('public, max-age=600');
    expect(first.headers.get('access-control-allow-origin')).toBe('*');
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const again = await fetch(url, { headers: { 'if-none-match': etag! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect(again.headers.get('etag')).toBe(etag);
    const stale = await fetch(url, { headers: { 'if-none-match': '"another"' } });
    expect(stale.status).toBe(200);
    expect(await stale.json()).toEqual(await first.json());
  });

  test('answers If-None-Match the way RFC 9110 compares: "*", weakly, and among a list', async () => {
    const url = `${origin(app)}${JWKS_PATH}`;
    const etag = (await fetch(url)).headers.get('etag')!;
    for (const ifNoneMatch of ['*', `W/${etag}`, `"another", ${etag}`]) {
      expect({ ifNoneMatch, status: (await fetch(url, { headers: { 'if-none-match': ifNoneMatch } })).status }).toEqual(
        {
          ifNoneMatch,
          status: 304,
        },
      );
    }
  });

  test("answers a browser's CORS preflight from any origin", async () => {
    for (const documentPath of [JWKS_PATH, DISCOVERY_PATH]) {
      const preflight = await fetch(`${origin(app)}${documentPath}`, {
        method: 'OPTIONS',
        headers: { origin: 'https://console.example', 'access-control-request-method': 'GET' },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
      expect(preflight.headers.get('access-control-allow-methods')).toMatch(/\bGET\b/);
    }
  });

  test('answers HEAD with the headers and no body, and refuses POST with 405', async () => {
    const url = `${origin(app)}${JWKS_PATH}`;
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('etag')).toMatch(/^"/);
    expect(await head.text()).toBe('');
    const post = await fetch(url, { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
  });

  test('serves a discovery document whose issuer is JWT_ISSUER and whose jwks_uri jose can use', async () => {
    const { response, body } = await getJson(`${origin(app)}${DISCOVERY_PATH}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(body).toMatchObject({
      issuer: app.config.jwt.issuer,
      jwks_uri: `${origin(app)}${JWKS_PATH}`,
      id_token_signing_alg_values_supported: [algorithm],
    });
    const { accessToken } = await signUp(app);
    await expect(verifyWithJose(app, accessToken, algorithm, body!.jwks_uri as string)).resolves.toBeDefined();
  });
});

describe('the JWKS settings', () => {
  test('HS256 alone serves an empty key set: its key is a secret', async () => {
    const app = await startTestServer({}, database);
    servers.push(app);
    expect(app.config.jwt.keys.algorithm).toBe('HS256');
    const { response, body } = await getJson(`${origin(app)}${JWKS_PATH}`);
    expect(response.status).toBe(200);
    expect(body).toEqual({ keys: [] });
  });

  test('JWKS_MAX_AGE sets the max-age of both documents', async () => {
    const app = await startSigning('ES256', generatePrivateKeyPem('ES256'), { JWKS_MAX_AGE: '1h' });
    for (const documentPath of [JWKS_PATH, DISCOVERY_PATH]) {
      const response = await fetch(`${origin(app)}${documentPath}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('public, max-age=3600');
    }
  });

  test('OIDC_DISCOVERY=off answers the discovery document with 404 and still serves the keys', async () => {
    const app = await startSigning('ES256', generatePrivateKeyPem('ES256'), { OIDC_DISCOVERY: 'off' });
    expect((await fetch(`${origin(app)}${DISCOVERY_PATH}`)).status).toBe(404);
    const { response, body } = await getJson(`${origin(app)}${JWKS_PATH}`);
    expect(response.status).toBe(200);
    expect(body!.keys).toHaveLength(1);
  });
});

/** A GET with a Host header of our choosing, which fetch does not let a caller set. */
function getWithHost(
  url: string,
  host: string,
): Promise<{ status: number; cacheControl: string | undefined; body: Record<string, any> }> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(url, { headers: { host } }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () =>
        resolve({
          status: response.statusCode!,
          cacheControl: response.headers['cache-control'],
          body: JSON.parse(text) as Record<string, any>,
        }),
      );
    });
    outgoing.once('error', reject);
    outgoing.end();
  });
}

describe('in development, with no key and the default issuer', () => {
  let dataDir: string;
  let app: TestServer;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'tessera-jwks-dev-'));
    app = await startTestServer(
      { NODE_ENV: 'development', JWT_SECRET_KEY: undefined, TESSERA_DATA_DIR: dataDir },
      database,
    );
    servers.push(app);
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  test('signs with the generated ES256 key, and jose verifies its tokens through the discovery document', async () => {
    expect(app.config.jwt.issuer).toBe('tessera');
    expect(app.config.jwt.keys.algorithm).toBe('ES256');
    const { body } = await getJson(`${origin(app)}${DISCOVERY_PATH}`);
    expect(body).toMatchObject({ issuer: 'tessera', jwks_uri: `${origin(app)}${JWKS_PATH}` });
    const { accessToken } = await signUp(app);
    const { protectedHeader } = await verifyWithJose(app, accessToken, 'ES256', body!.jwks_uri as string);
    expect(protectedHeader.alg).toBe('ES256');
  });

  test('publishes the key it generated into the data folder (mode 0600), and a restart keeps it', async () => {
    const keyFile = path.join(dataDir, 'jwt-es256-key.pem');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const kid = jwkThumbprint(createPublicKey(readFileSync(keyFile, 'utf8')));
    const { body } = await getJson(`${origin(app)}${JWKS_PATH}`);
    expect((body!.keys as JWK[]).map((key) => key.kid)).toEqual([kid]);

    const { accessToken } = await signUp(app);
    const restarted = await startTestServer(
      { NODE_ENV: 'development', JWT_SECRET_KEY: undefined, TESSERA_DATA_DIR: dataDir },
      database,
    );
    servers.push(restarted);
    const again = await getJson(`${origin(restarted)}${JWKS_PATH}`);
    expect((again.body!.keys as JWK[]).map((key) => key.kid)).toEqual([kid]);
    await expect(verifyWithJose(restarted, accessToken, 'ES256')).resolves.toBeDefined();
  });

  test("derives jwks_uri from the request's Host, and lets no cache keep that answer", async () => {
    const { status, cacheControl, body } = await getWithHost(
      `${origin(app)}${DISCOVERY_PATH}`,
      'auth.example.test:8443',
    );
    expect(status).toBe(200);
    expect(body.jwks_uri).toBe(`http://auth.example.test:8443${JWKS_PATH}`);
    expect(cacheControl).toBe('no-store');
  });
});

describe.each(ALGORITHMS)('a rotation of the %s key, seen by jose', (algorithm) => {
  const oldKey = generatePrivateKeyPem(algorithm);
  const newKey = generatePrivateKeyPem(algorithm);
  let before: TestServer;
  let during: TestServer;
  let after: TestServer;
  let oldToken: string;

  beforeAll(async () => {
    before = await startSigning(algorithm, oldKey);
    oldToken = (await signUp(before)).accessToken;
    // The issuer stays the same across the rotation, as it would for one deployment.
    const issuer = before.config.jwt.issuer;
    during = await startSigning(algorithm, newKey, { JWT_ISSUER: issuer, JWT_PREVIOUS_PUBLIC_KEYS: publicPem(oldKey) });
    after = await startSigning(algorithm, newKey, { JWT_ISSUER: issuer });
  });

  test('publishes the new key first and the previous one after it', async () => {
    const { body } = await getJson(`${origin(during)}${JWKS_PATH}`);
    const kids = (body!.keys as JWK[]).map((key) => key.kid);
    expect(kids).toEqual([decodeJwt((await signUp(during)).accessToken).header.kid, decodeJwt(oldToken).header.kid]);
  });

  test("verifies a token of the old key against the new server's JWKS while the old key is listed", async () => {
    const { payload } = await verifyWithJose(during, oldToken, algorithm);
    expect(payload.sub).toBe(decodeJwt(oldToken).payload.sub);
  });

  test("signs new tokens with the new key's kid, which jose verifies too", async () => {
    const { accessToken } = await signUp(during);
    const { body } = await getJson(`${origin(after)}${JWKS_PATH}`);
    const [newJwk] = body!.keys as JWK[];
    expect(decodeJwt(accessToken).header.kid).toBe(await calculateJwkThumbprint(newJwk, 'sha256'));
    expect(decodeJwt(accessToken).header.kid).not.toBe(decodeJwt(oldToken).header.kid);
    await expect(verifyWithJose(during, accessToken, algorithm)).resolves.toBeDefined();
  });

  test('finds no key for the old token once the old key is removed', async () => {
    const { body } = await getJson(`${origin(after)}${JWKS_PATH}`);
    expect(body!.keys).toHaveLength(1);
    await expect(verifyWithJose(after, oldToken, algorithm)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
  });
});
