// Refusals before execution: one credential mutation per operation, depth, aliases, tokens and
// cost; and the production surface (no introspection, no suggestions, CSRF prevention).
import { randomBytes } from 'node:crypto';
import { onlyError } from '../helpers/graphql-client.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

let app: TestServer;
beforeAll(async () => {
  app = await startTestServer();
});
afterAll(() => app.stop());

test.each([
  [
    'two aliased logins',
    'mutation { a: login(input: {usernameOrEmail: "x", password: "y"}) { accessToken } b: login(input: {usernameOrEmail: "x", password: "y"}) { accessToken } }',
  ],
  [
    'a signup and a login',
    'mutation { signup(input: {username: "twice", email: "t@example.com", password: "correct horse battery"}) { accessToken } login(input: {usernameOrEmail: "x", password: "y"}) { accessToken } }',
  ],
  [
    'two password reset requests under aliases (one operation must not mail many)',
    'mutation { a: requestPasswordReset(email: "a@example.com") b: requestPasswordReset(email: "b@example.com") }',
  ],
  [
    'the same login spread twice through a fragment',
    'mutation { ...L ...L } fragment L on Mutation { login(input: {usernameOrEmail: "x", password: "y"}) { accessToken } }',
  ],
  [
    'a login and the completion of a two-factor challenge',
    'mutation { login(input: {usernameOrEmail: "x", password: "y"}) { accessToken } completeMfaLogin(mfaToken: "x", code: "123456") { accessToken } }',
  ],
  [
    'a login inside an inline fragment next to a refresh',
    'mutation { ... on Mutation { login(input: {usernameOrEmail: "x", password: "y"}) { accessToken } } refresh(refreshToken: "x") { accessToken } }',
  ],
])('refuses %s in one operation before anything executes', async (_, query) => {
  const before = await countUsers();
  const result = await app.client.request(query);
  expect(result.status).toBe(400);
  expect(onlyError(result).extensions).toMatchObject({
    code: 'GRAPHQL_VALIDATION_FAILED',
    reason: 'TOO_MANY_CREDENTIAL_MUTATIONS',
  });
  expect(result.data).toBeUndefined();
  expect(await countUsers()).toBe(before);
});

async function countUsers(): Promise<number> {
  const rows = await app.orm.em.fork().getConnection().execute<{ n: number }[]>('select count(*)::int as n from users');
  return rows[0].n;
}

describe('with tight limits', () => {
  let strict: TestServer;
  beforeAll(async () => {
    strict = await startTestServer(
      { GRAPHQL_MAX_DEPTH: '2', GRAPHQL_MAX_ALIASES: '3', GRAPHQL_MAX_TOKENS: '200', GRAPHQL_MAX_COST: '20' },
      app.database,
    );
  });
  afterAll(() => strict.stop());

  test.each([
    ['deeper than the limit', '{ myTasks { owner { id } } }'],
    ['with too many aliases', '{ a: me { id } b: me { id } c: me { id } d: me { id } }'],
    ['with too many tokens', `{ me { ${'id '.repeat(300)} } }`],
    [
      'over the cost limit',
      `{ ${['a', 'b', 'c'].map((alias) => `${alias}: me { id username email roles isActive createdAt }`).join(' ')} }`,
    ],
  ])('a query %s is refused before execution with a coded 400', async (_, query) => {
    const result = await strict.client.request(query);
    expect(result.status).toBe(400);
    expect(result.data).toBeUndefined();
    const codes = (result.errors ?? []).map((error) => error.extensions?.code);
    expect(codes.length).toBeGreaterThan(0);
    expect(codes.every((code) => code === 'GRAPHQL_VALIDATION_FAILED' || code === 'GRAPHQL_PARSE_FAILED')).toBe(true);
  });

  test('a query within every limit runs', async () => {
    const result = await strict.client.request('{ a: __typename b: __typename }');
    expect(result.data).toEqual({ a: 'Query', b: 'Query' });
  });
});

test('HTTP batching stays off', async () => {
  const response = await fetch(app.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]),
  });
  expect(response.status).toBe(400);
});

describe('in production', () => {
  let production: TestServer;
  beforeAll(async () => {
    production = await startTestServer(
      {
        NODE_ENV: 'production',
        JWT_SECRET_KEY: randomBytes(48).toString('base64url'),
        ARGON2_MEMORY_KIB: '19456',
        ARGON2_TIME_COST: '2',
      },
      app.database,
    );
  });
  afterAll(() => production.stop());

  test('introspection is off', async () => {
    const result = await production.client.request('{ __schema { queryType { name } } }');
    expect(result.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(result.data ?? null).toBeNull();
  });

  test('no field suggestions give the schema away', async () => {
    const result = await production.client.request('{ mee { id } }');
    expect(JSON.stringify(result.errors)).not.toMatch(/Did you mean/i);
    const inDevelopment = await app.client.request('{ mee { id } }');
    expect(JSON.stringify(inDevelopment.errors)).toMatch(/Did you mean/i);
  });

  test('a simple cross-site request is refused by CSRF prevention', async () => {
    const response = await fetch(`${production.url}?query=%7B__typename%7D`, { method: 'GET' });
    expect(response.status).toBe(400);
    const text = await fetch(production.url, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{"query":"{ __typename }"}',
    });
    expect(text.status).toBe(400);
  });

  test('GRAPHQL_INTROSPECTION=true turns introspection back on', async () => {
    const open = await startTestServer(
      {
        NODE_ENV: 'production',
        GRAPHQL_INTROSPECTION: 'true',
        JWT_SECRET_KEY: randomBytes(48).toString('base64url'),
        ARGON2_MEMORY_KIB: '19456',
        ARGON2_TIME_COST: '2',
      },
      app.database,
    );
    try {
      const result = await open.client.request('{ __schema { queryType { name } } }');
      expect(result.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    } finally {
      await open.stop();
    }
  });
});
