// CORS over real HTTP: which browser origins get the allowing headers on /graphql, for preflights
// and for actual responses, by default and when configured.
import { randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { Env } from '../../src/config.js';
import { runProcess } from '../helpers/run-process.js';
import { buildPath } from '../helpers/server-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { startTestServer, TEST_ENV, type TestServer } from '../helpers/test-server.js';

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A request with exactly these headers (fetch would add or refuse some of them). */
function send(url: string, method: string, headers: Record<string, string>, body?: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(url, { method, headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text }));
    });
    outgoing.once('error', reject);
    outgoing.end(body);
  });
}

function preflight(app: TestServer, origin: string, requestHeaders = 'content-type, authorization') {
  return send(app.url, 'OPTIONS', {
    origin,
    'access-control-request-method': 'POST',
    'access-control-request-headers': requestHeaders,
  });
}

function postTypename(app: TestServer, origin: string) {
  return send(
    app.url,
    'POST',
    { origin, 'content-type': 'application/json' },
    JSON.stringify({ query: '{ __typename }' }),
  );
}

function allowHeadersOf(response: RawResponse): string[] {
  return Object.keys(response.headers).filter((name) => name.startsWith('access-control-allow-'));
}

function expectAllowedPreflight(response: RawResponse, origin: string): void {
  expect(response.status).toBe(204);
  expect(response.headers['access-control-allow-origin']).toBe(origin);
  expect(response.headers['access-control-allow-credentials']).toBe('true');
  expect(response.headers['access-control-allow-methods']?.split(/,\s*/).sort()).toEqual(['GET', 'OPTIONS', 'POST']);
  expect(response.headers.vary).toMatch(/\bOrigin\b/);
}

function expectRefusedPreflight(response: RawResponse): void {
  expect(response.status).toBe(403);
  expect(allowHeadersOf(response)).toEqual([]);
  expect(response.headers.vary).toMatch(/\bOrigin\b/);
  expect(JSON.parse(response.body)).toEqual({
    errors: [{ message: expect.any(String), extensions: { code: 'FORBIDDEN', reason: 'ORIGIN_NOT_ALLOWED' } }],
  });
}

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.drop());

/** A server on the shared database for the tests inside `body`. */
function withServer(env: Env, body: (app: () => TestServer) => void): void {
  let app: TestServer;
  beforeAll(async () => {
    app = await startTestServer(env, database);
  });
  afterAll(() => app.stop());
  body(() => app);
}

describe('outside production with CORS_ORIGINS unset', () => {
  withServer({}, (app) => {
    test.each(['http://localhost:5173', 'http://127.0.0.1:8080', 'http://[::1]:3000', 'http://localhost'])(
      'a preflight from the loopback origin %s is allowed with every header a browser app needs',
      async (origin) => {
        const response = await preflight(app(), origin);
        expectAllowedPreflight(response, origin);
        expect(response.headers['access-control-allow-headers']?.split(/,\s*/)).toEqual([
          'content-type',
          'authorization',
          'x-csrf-token',
          'apollo-require-preflight',
          'x-apollo-operation-name',
        ]);
        expect(response.headers['access-control-max-age']).toBe('600');
        expect(response.body).toBe('');
      },
    );

    test.each([
      ['another site', 'https://evil.example'],
      ['a host that only starts with localhost', 'http://localhost.evil.example:5173'],
      ['a user part naming localhost', 'http://localhost@evil.example'],
      ['an origin with a path', 'http://localhost:5173/app'],
      ['two Origin values joined', 'http://localhost:5173, https://evil.example'],
      ['the opaque origin of a sandboxed page', 'null'],
      ['a scheme that is not http', 'ftp://localhost'],
    ])('a preflight from %s is refused with 403, a coded error and no allowing header', async (_, origin) => {
      expectRefusedPreflight(await preflight(app(), origin));
    });

    test('an actual POST from an allowed origin carries Allow-Origin, Allow-Credentials and Vary: Origin', async () => {
      const response = await postTypename(app(), 'http://localhost:5173');
      expect(response.status).toBe(200);
      expect(JSON.parse(response.body)).toEqual({ data: { __typename: 'Query' } });
      expect(response.headers['access-control-allow-origin']).toBe('http://localhost:5173');
      expect(response.headers['access-control-allow-credentials']).toBe('true');
      expect(response.headers.vary).toMatch(/\bOrigin\b/);
    });

    test('an actual GET from an allowed origin carries them too', async () => {
      const response = await send(`${app().url}?query=${encodeURIComponent('{ __typename }')}`, 'GET', {
        origin: 'http://127.0.0.1:8080',
        'apollo-require-preflight': 'true',
      });
      expect(response.status).toBe(200);
      expect(response.headers['access-control-allow-origin']).toBe('http://127.0.0.1:8080');
      expect(response.headers['access-control-allow-credentials']).toBe('true');
    });

    test('an actual POST from another origin is answered without any allowing header, so the browser hides it', async () => {
      const response = await postTypename(app(), 'https://evil.example');
      expect(allowHeadersOf(response)).toEqual([]);
      expect(response.headers.vary).toMatch(/\bOrigin\b/);
    });

    test('a request without Origin (curl, a server) is answered as before, without CORS headers', async () => {
      const response = await send(
        app().url,
        'POST',
        { 'content-type': 'application/json' },
        JSON.stringify({ query: '{ __typename }' }),
      );
      expect(response.status).toBe(200);
      expect(allowHeadersOf(response)).toEqual([]);
    });

    test('/healthz has no CORS headers', async () => {
      const response = await send(app().url.replace(/\/graphql$/, '/healthz'), 'GET', {
        origin: 'http://localhost:5173',
      });
      expect(allowHeadersOf(response)).toEqual([]);
    });
  });
});

describe('with CORS_ORIGINS, CORS_MAX_AGE and JWT_HEADER_NAME set', () => {
  withServer(
    {
      CORS_ORIGINS: 'https://app.example.com, http://admin.example.com:8443',
      CORS_MAX_AGE: '90',
      JWT_HEADER_NAME: 'X-Auth-Token',
    },
    (app) => {
      test.each(['https://app.example.com', 'http://admin.example.com:8443'])(
        'a preflight from the listed origin %s is allowed',
        async (origin) => {
          const response = await preflight(app(), origin, 'content-type, x-auth-token');
          expectAllowedPreflight(response, origin);
          expect(response.headers['access-control-allow-headers']?.split(/,\s*/)).toContain('x-auth-token');
          expect(response.headers['access-control-max-age']).toBe('90');
        },
      );

      test.each([
        'http://localhost:5173',
        'http://app.example.com',
        'https://app.example.com:444',
        'https://example.com',
      ])('a preflight from %s, not listed, is refused (loopback too, once origins are listed)', async (origin) => {
        expectRefusedPreflight(await preflight(app(), origin));
      });
    },
  );
});

describe('in production with CORS_ORIGINS unset', () => {
  withServer({ NODE_ENV: 'production', ARGON2_MEMORY_KIB: '19456', ARGON2_TIME_COST: '2' }, (app) => {
    test('no origin is allowed, not even loopback: same-origin only', async () => {
      expectRefusedPreflight(await preflight(app(), 'http://localhost:5173'));
      const response = await postTypename(app(), 'http://localhost:5173');
      expect(response.status).toBe(200);
      expect(allowHeadersOf(response)).toEqual([]);
    });
  });
});

test('the real process refuses to start with CORS_ORIGINS=*, saying why, with the configuration exit code', async () => {
  const run = await runProcess(process.execPath, [buildPath('src', 'main.js')], {
    cwd: process.cwd(),
    env: {
      PATH: process.env.PATH,
      ...TEST_ENV,
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      PORT: '0',
      DATABASE_URL: database.url,
      JWT_SECRET_KEY: randomBytes(32).toString('base64url'),
      CORS_ORIGINS: 'https://app.example.com,*',
    },
  });
  const output = run.stdout + run.stderr;
  expect(output).not.toMatch(/ready at/);
  expect(run.code).toBe(78);
  expect(output).toMatch(/CORS_ORIGINS: .*wildcards are refused/);
});
