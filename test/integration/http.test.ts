// The HTTP face: its routes, and error bodies that carry a code but never Apollo's internal
// `extensions.http` (the status travels in the response line, not in the body).
import { startTestServer, type TestServer } from '../helpers/test-server.js';

let app: TestServer;
beforeAll(async () => {
  app = await startTestServer();
});
afterAll(() => app.stop());

async function post(body: string, contentType = 'application/json') {
  const response = await fetch(app.url, { method: 'POST', headers: { 'content-type': contentType }, body });
  return { status: response.status, body: (await response.json()) as { errors?: { extensions?: object }[] } };
}

test.each([
  ['a request without a query', '{}', 400, 'BAD_REQUEST'],
  ['a query that does not parse', JSON.stringify({ query: '{ me {' }), 400, 'GRAPHQL_PARSE_FAILED'],
  ['a query asking for an unknown field', JSON.stringify({ query: '{ nope }' }), 400, 'GRAPHQL_VALIDATION_FAILED'],
  [
    'a variable of the wrong type',
    JSON.stringify({ query: 'query ($id: ID!) { user(id: $id) { id } }', variables: { id: {} } }),
    400,
    'BAD_USER_INPUT',
  ],
  ['a body that is not JSON', '{"query":', 400, 'BAD_REQUEST'],
  ['a protected field asked without a token', JSON.stringify({ query: '{ me { id } }' }), 200, 'UNAUTHENTICATED'],
])('%s is answered with a coded error and no extensions.http', async (_, body, status, code) => {
  const result = await post(body);
  expect(result.status).toBe(status);
  expect(result.body.errors?.length).toBeGreaterThan(0);
  for (const error of result.body.errors ?? []) {
    expect(error.extensions).toMatchObject({ code });
    expect(error.extensions).not.toHaveProperty('http');
  }
});

test('a body over the limit is refused with 413 and a coded error', async () => {
  const result = await post(
    JSON.stringify({ query: `{ __typename } # ${'x'.repeat(app.config.graphql.maxBodyBytes)}` }),
  );
  expect(result.status).toBe(413);
  expect(result.body.errors?.[0].extensions).toEqual({ code: 'PAYLOAD_TOO_LARGE' });
});

test('GET /healthz reports the database as up', async () => {
  const response = await fetch(new URL('/healthz', app.url));
  expect(response.status).toBe(200);
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(await response.json()).toEqual({ status: 'ok', database: 'up' });
});

test('POST /healthz is refused with 405, naming the methods it takes', async () => {
  const response = await fetch(new URL('/healthz', app.url), { method: 'POST' });
  expect(response.status).toBe(405);
  expect(response.headers.get('allow')).toBe('GET, HEAD');
});

test('any other path is answered 404', async () => {
  const response = await fetch(new URL('/graphql/extra', app.url));
  expect(response.status).toBe(404);
  expect(await response.json()).toEqual({ error: 'not found' });
});
