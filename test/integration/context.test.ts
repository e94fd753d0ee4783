// The token transport and the HTTP face: how the context reads the configured header and scheme,
// which reason a refused token gets, GET versus POST, /healthz, body limits, and that no response
// leaks a stack trace, SQL or (in production) field suggestions.
import { randomBytes } from 'node:crypto';
import { eventually } from '../helpers/eventually.js';
import { decodeJwt, deactivateUser, deleteSessionRow, revokeSessionRow, sessionIdOf } from '../helpers/fixtures.js';
import { onlyError, SIGNUP, type AuthPayload, type GraphQLResult } from '../helpers/graphql-client.js';
import { untilJustAfterSecond } from '../helpers/session-helpers.js';
import { runAdminSql } from '../helpers/test-database.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const ME = '{ me { id } }';

let app: TestServer;
beforeAll(async () => {
  app = await startTestServer();
});
afterAll(() => app.stop());

/** `me` with exactly these extra headers (no Authorization unless given). */
function me(server: TestServer, headers: Record<string, string> = {}): Promise<GraphQLResult<{ me: { id: string } }>> {
  return server.client.request(ME, {}, { headers });
}

function expectRefused(result: GraphQLResult, reason?: string): void {
  expect(result.data ?? null).toBeNull();
  const error = onlyError(result);
  expect(error.path).toEqual(['me']);
  expect(error.extensions?.code).toBe('UNAUTHENTICATED');
  if (reason) expect(error.extensions?.reason).toBe(reason);
}

function expectViewer(result: GraphQLResult<{ me: { id: string } }>, userId: string): void {
  expect(result.errors).toBeUndefined();
  expect(result.data!.me.id).toBe(userId);
}

function graphqlUrl(server: TestServer, search = ''): string {
  return `${server.url}${search}`;
}

function rootUrl(server: TestServer, pathname: string): string {
  return new URL(pathname, server.url).toString();
}

describe('the default Authorization: Bearer transport', () => {
  let alice: AuthPayload;
  beforeAll(async () => {
    alice = await app.client.signup('alice');
  });

  test('answers me for "Bearer <token>"', async () => {
    expectViewer(await me(app, { authorization: `Bearer ${alice.accessToken}` }), alice.user.id);
  });

  test('refuses me without a header as TOKEN_MISSING', async () => {
    expectRefused(await me(app), 'TOKEN_MISSING');
  });

  test('refuses an empty header as TOKEN_MISSING', async () => {
    expectRefused(await me(app, { authorization: '' }), 'TOKEN_MISSING');
  });

  test('refuses "Bearer garbage" as TOKEN_INVALID', async () => {
    expectRefused(await me(app, { authorization: 'Bearer garbage' }), 'TOKEN_INVALID');
  });

  test('matches the scheme case-insensitively: "bearer <token>" works', async () => {
    expectViewer(await me(app, { authorization: `bearer ${alice.accessToken}` }), alice.user.id);
    expectViewer(await me(app, { authorization: `BEARER ${alice.accessToken}` }), alice.user.id);
  });

  test('refuses another scheme, "Basic <token>", as TOKEN_INVALID', async () => {
    expectRefused(await me(app, { authorization: `Basic ${alice.accessToken}` }), 'TOKEN_INVALID');
  });

  test('refuses the scheme alone, "Bearer", as TOKEN_INVALID', async () => {
    expectRefused(await me(app, { authorization: 'Bearer' }), 'TOKEN_INVALID');
  });

  test('refuses a bare token without the scheme as TOKEN_INVALID', async () => {
    expectRefused(await me(app, { authorization: alice.accessToken }), 'TOKEN_INVALID');
  });

  test('refuses the refresh token presented as an access token as TOKEN_INVALID', async () => {
    expectRefused(await me(app, { authorization: `Bearer ${alice.refreshToken}` }), 'TOKEN_INVALID');
  });

  test('refuses a token whose payload was tampered with as TOKEN_INVALID', async () => {
    const [header, payload, signature] = alice.accessToken.split('.');
    const claims = { ...JSON.parse(Buffer.from(payload, 'base64url').toString()), roles: ['ADMIN', 'USER'] };
    const tampered = [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.');
    expectRefused(await me(app, { authorization: `Bearer ${tampered}` }), 'TOKEN_INVALID');
  });
});

describe('configured transports', () => {
  let jwtApp: TestServer;
  let bareApp: TestServer;
  let headerApp: TestServer;
  beforeAll(async () => {
    // All three share this file's database: each keeps its own secret.
    jwtApp = await startTestServer({ JWT_HEADER_TYPE: 'JWT' }, app.database);
    bareApp = await startTestServer({ JWT_HEADER_TYPE: '' }, app.database);
    headerApp = await startTestServer({ JWT_HEADER_NAME: 'X-Access-Token', JWT_HEADER_TYPE: 'Token' }, app.database);
  });
  afterAll(async () => {
    await Promise.all([jwtApp?.stop(), bareApp?.stop(), headerApp?.stop()]);
  });

  test('with JWT_HEADER_TYPE=JWT, "JWT <token>" works, "Bearer <token>" fails and the payload says JWT', async () => {
    const jules = await jwtApp.client.signup('jules');
    expect(jules.tokenType).toBe('JWT');
    expectViewer(await me(jwtApp, { authorization: `JWT ${jules.accessToken}` }), jules.user.id);
    expectViewer(await me(jwtApp, { authorization: `jwt ${jules.accessToken}` }), jules.user.id);
    expectRefused(await me(jwtApp, { authorization: `Bearer ${jules.accessToken}` }), 'TOKEN_INVALID');
  });

  test('with an empty JWT_HEADER_TYPE, a bare token works and "Bearer <token>" fails', async () => {
    const bea = await bareApp.client.signup('bea');
    expect(bea.tokenType).toBe('');
    expectViewer(await me(bareApp, { authorization: bea.accessToken }), bea.user.id);
    expectRefused(await me(bareApp, { authorization: `Bearer ${bea.accessToken}` }), 'TOKEN_INVALID');
    expectRefused(await me(bareApp), 'TOKEN_MISSING');
  });

  test('with JWT_HEADER_NAME=X-Access-Token, the token is read from that header only, with the configured type', async () => {
    const xena = await headerApp.client.signup('xena');
    expect(xena.tokenType).toBe('Token');
    expectViewer(await me(headerApp, { 'x-access-token': `${xena.tokenType} ${xena.accessToken}` }), xena.user.id);
    expectRefused(await me(headerApp, { authorization: `Token ${xena.accessToken}` }), 'TOKEN_MISSING');
    expectRefused(await me(headerApp, { 'x-access-token': `Bearer ${xena.accessToken}` }), 'TOKEN_INVALID');
  });

  test('refuses a token signed by another server (another secret) as TOKEN_INVALID', async () => {
    const jules = (await jwtApp.client.login('jules')).data!.login;
    expectRefused(await me(app, { authorization: `Bearer ${jules.accessToken}` }), 'TOKEN_INVALID');
  });
});

describe('tokens whose session or user ended', () => {
  test('refuses an expired access token as TOKEN_EXPIRED', async () => {
    const shortLived = await startTestServer({ JWT_ACCESS_TOKEN_EXPIRES: '1' }, app.database);
    try {
      await untilJustAfterSecond(); // expiresIn is read in whole seconds, just after signing
      const ezra = await shortLived.client.signup('ezra');
      expect(ezra.expiresIn).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 1200));
      expectRefused(await me(shortLived, { authorization: `Bearer ${ezra.accessToken}` }), 'TOKEN_EXPIRED');
    } finally {
      await shortLived.stop();
    }
  });

  test('refuses a token whose session row was deleted as TOKEN_REVOKED', async () => {
    const dina = await app.client.signup('dina');
    const authorization = `Bearer ${dina.accessToken}`;
    expectViewer(await me(app, { authorization }), dina.user.id);
    await deleteSessionRow(app, sessionIdOf(dina.accessToken));
    expectRefused(await me(app, { authorization }), 'TOKEN_REVOKED');
  });

  test('refuses a token whose session was revoked as TOKEN_REVOKED', async () => {
    const rita = await app.client.signup('rita');
    const authorization = `Bearer ${rita.accessToken}`;
    expectViewer(await me(app, { authorization }), rita.user.id);
    await revokeSessionRow(app, sessionIdOf(rita.accessToken));
    expectRefused(await me(app, { authorization }), 'TOKEN_REVOKED');
  });

  test('refuses the token of a user set inactive as UNAUTHENTICATED', async () => {
    const ivan = await app.client.signup('ivan');
    const authorization = `Bearer ${ivan.accessToken}`;
    expectViewer(await me(app, { authorization }), ivan.user.id);
    await deactivateUser(app, ivan.user.id);
    expectRefused(await me(app, { authorization }));
  });
});

describe('public and protected fields in one request', () => {
  test('answers the public field and fails only the protected one when the token is bad', async () => {
    const result = await app.client.request(
      'query Mixed($id: ID!) { __typename user(id: $id) { id } }',
      { id: '00000000-0000-4000-8000-000000000000' },
      { headers: { authorization: 'Bearer garbage' } },
    );
    expect(result.data).toEqual({ __typename: 'Query', user: null });
    const error = onlyError(result);
    expect(error.path).toEqual(['user']);
    expect(error.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_INVALID' });
  });

  test('runs a login next to a protected mutation with a bad token, failing only the protected one', async () => {
    await app.client.signup('mixer');
    const result = await app.client.request(
      'mutation { login(input: { usernameOrEmail: "mixer", password: "correct horse battery" }) { user { id email } } createTask(title: "x") { id } }',
      {},
      { headers: { authorization: 'Bearer garbage' } },
    );
    const error = onlyError(result);
    expect(error.path).toEqual(['createTask']);
    expect(error.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_INVALID' });
    // createTask is non-null, so data is null; the login itself went through and opened a session.
    const sessions = await app.orm.em
      .fork()
      .getConnection()
      .execute(
        "select count(*)::int as n from sessions s join users u on u.id = s.user_id where u.username_key = 'mixer'",
      );
    expect(sessions[0].n).toBe(2);
  });
});

describe('GET /graphql', () => {
  let gus: AuthPayload;
  beforeAll(async () => {
    gus = await app.client.signup('gus');
  });

  test('answers a query with the token in the header when the request is preflighted', async () => {
    const response = await fetch(graphqlUrl(app, `?query=${encodeURIComponent('{me{id}}')}`), {
      headers: { authorization: `Bearer ${gus.accessToken}`, 'apollo-require-preflight': 'true' },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { me: { id: gus.user.id } } });
  });

  test('refuses a simple GET without a preflight header (CSRF prevention)', async () => {
    const response = await fetch(graphqlUrl(app, `?query=${encodeURIComponent('{me{id}}')}`), {
      headers: { authorization: `Bearer ${gus.accessToken}` },
    });
    expect(response.status).toBe(400);
    expect(await response.text()).not.toContain(gus.user.id);
  });

  test('refuses a mutation sent by GET and does not run it', async () => {
    const mutation =
      'mutation { signup(input: { username: "getter", email: "getter@example.com", password: "correct horse battery" }) { accessToken } }';
    const response = await fetch(graphqlUrl(app, `?query=${encodeURIComponent(mutation)}`), {
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect(response.status).toBe(405);
    const body = (await response.json()) as { data?: unknown; errors?: unknown[] };
    expect(body.data).toBeUndefined();
    expect(body.errors).toHaveLength(1);
    expect((await app.client.login('getter')).errors?.[0]?.extensions?.reason).toBe('INVALID_CREDENTIALS');
  });
});

describe('HTTP routes and limits', () => {
  test('answers /healthz with 200 and status ok while the database is up', async () => {
    const response = await fetch(rootUrl(app, '/healthz'));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', database: 'up' });
  });

  test('answers /healthz with 503 while the database refuses connections, and 200 again once it is back, without a restart', async () => {
    const outage = await startTestServer();
    const name = outage.database.name;
    try {
      expect((await fetch(rootUrl(outage, '/healthz'))).status).toBe(200);
      await runAdminSql(`alter database "${name}" allow_connections false`);
      await runAdminSql(
        `select pg_terminate_backend(pid) from pg_stat_activity where datname = '${name}' and pid <> pg_backend_pid()`,
      );
      const down = await fetch(rootUrl(outage, '/healthz'));
      expect(down.status).toBe(503);
      expect(await down.json()).toEqual({ status: 'unavailable', database: 'down' });

      await runAdminSql(`alter database "${name}" allow_connections true`);
      expect(await eventually(async () => (await fetch(rootUrl(outage, '/healthz'))).status === 200, 10_000)).toBe(
        true,
      );
      const up = await fetch(rootUrl(outage, '/healthz'));
      expect(await up.json()).toMatchObject({ status: 'ok' });
    } finally {
      await runAdminSql(`alter database "${name}" allow_connections true`);
      await outage.stop();
    }
  });

  test('answers an unknown path with 404', async () => {
    const response = await fetch(rootUrl(app, '/nowhere'));
    expect(response.status).toBe(404);
  });

  test('refuses malformed JSON with 400 and a coded error', async () => {
    const response = await fetch(graphqlUrl(app), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query": "{ me { id } }"',
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0].extensions.code).toBe('BAD_REQUEST');
  });

  describe('with GRAPHQL_MAX_BODY_BYTES=2048', () => {
    let limited: TestServer;
    beforeAll(async () => {
      limited = await startTestServer({ GRAPHQL_MAX_BODY_BYTES: '2048' }, app.database);
    });
    afterAll(() => limited?.stop());

    const bodyOf = (size: number) => {
      const base = JSON.stringify({ query: '{ __typename }', variables: { pad: '' } });
      return JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(size - base.length) } });
    };

    test('answers a body within the limit', async () => {
      const response = await fetch(graphqlUrl(limited), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: bodyOf(2000),
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
    });

    test('refuses a body over the limit with HTTP 413', async () => {
      const response = await fetch(graphqlUrl(limited), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: bodyOf(4096),
      });
      expect(response.status).toBe(413);
      const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
      expect(body.errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
    });

    test('refuses a chunked body (no Content-Length) that grows over the limit with HTTP 413', async () => {
      const payload = new TextEncoder().encode(bodyOf(4096));
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let offset = 0; offset < payload.length; offset += 512)
            controller.enqueue(payload.slice(offset, offset + 512));
          controller.close();
        },
      });
      const response = await fetch(graphqlUrl(limited), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: stream,
        duplex: 'half',
      });
      expect(response.status).toBe(413);
    });
  });
});

describe('what error responses never reveal', () => {
  const LEAKS = [/stack/i, /\bselect\b/i, /\binsert into\b/i, /\bviolates\b/i, /node_modules/, /\.ts:\d+/];

  function expectNoLeak(text: string): void {
    for (const leak of LEAKS) expect(text).not.toMatch(leak);
  }

  async function rawPost(
    server: TestServer,
    query: string,
    variables: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ) {
    const response = await fetch(graphqlUrl(server), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, text: await response.text() };
  }

  test('shows no stack trace or SQL in the error responses of a test server', async () => {
    await app.client.signup('leaky');
    const responses = await Promise.all([
      rawPost(app, ME),
      rawPost(app, ME, {}, { authorization: 'Bearer garbage' }),
      rawPost(app, '{ me { id }'),
      rawPost(app, '{ mee { id } }'),
      rawPost(app, SIGNUP, {
        input: { username: 'LEAKY', email: 'leaky2@example.com', password: 'correct horse battery' },
      }),
      rawPost(
        app,
        'mutation { login(input: { usernameOrEmail: "nul\\u0000byte", password: "correct horse battery" }) { accessToken } }',
      ),
    ]);
    for (const response of responses) {
      expect(JSON.parse(response.text).errors.length).toBeGreaterThan(0);
      expectNoLeak(response.text);
    }
  });

  test('gives field suggestions outside production', async () => {
    const result = await app.client.request('{ mee { id } }');
    expect(onlyError(result).message).toMatch(/Did you mean/);
  });

  describe('in production', () => {
    let production: TestServer;
    beforeAll(async () => {
      production = await startTestServer(
        {
          NODE_ENV: 'production',
          JWT_SECRET_KEY: randomBytes(36).toString('base64'),
          ARGON2_MEMORY_KIB: '19456',
          ARGON2_TIME_COST: '2',
        },
        app.database,
      );
    });
    afterAll(() => production?.stop());

    test('was started with production settings', () => {
      expect(production.config.isProduction).toBe(true);
      expect(production.config.argon2).toMatchObject({ memoryKib: 19456, timeCost: 2 });
    });

    test('sends coded errors without extensions.stacktrace, stack or SQL', async () => {
      const pat = await production.client.signup('prodpat');
      expect(decodeJwt(pat.accessToken).header.typ).toBe('at+jwt');
      const responses = await Promise.all([
        rawPost(production, ME),
        rawPost(production, ME, {}, { authorization: 'Bearer garbage' }),
        rawPost(production, '{ me { id }'),
        rawPost(production, SIGNUP, {
          input: { username: 'PRODPAT', email: 'other@example.com', password: 'correct horse battery' },
        }),
        rawPost(
          production,
          'mutation { login(input: { usernameOrEmail: "nul\\u0000byte", password: "correct horse battery" }) { accessToken } }',
        ),
      ]);
      for (const response of responses) {
        const body = JSON.parse(response.text) as { errors: { extensions?: Record<string, unknown> }[] };
        expect(body.errors.length).toBeGreaterThan(0);
        for (const error of body.errors) {
          expect(typeof error.extensions?.code).toBe('string');
          expect(error.extensions).not.toHaveProperty('stacktrace');
        }
        expectNoLeak(response.text);
      }
    });

    test('gives no field suggestion ("Did you mean") for a misspelled field', async () => {
      const response = await rawPost(production, '{ mee { id } }');
      const body = JSON.parse(response.text) as { errors: { message: string; extensions: { code: string } }[] };
      expect(body.errors).toHaveLength(1);
      expect(body.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(body.errors[0].message).not.toMatch(/did you mean/i);
      expect(body.errors[0].message).not.toMatch(/"me"/);
    });
  });
});
