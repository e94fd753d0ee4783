// Every /graphql answer is uncacheable and unsniffable; the landing page's policy allows exactly
// what it loads.
import { startTestServer, type TestServer } from '../helpers/test-server.js';

let app: TestServer;
beforeAll(async () => {
  app = await startTestServer();
});
afterAll(() => app.stop());

function expectCommonHeaders(response: Response): void {
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.get('x-content-type-options')).toBe('nosniff');
}

test('a successful POST carries no-store, nosniff and a deny-all policy', async () => {
  const response = await fetch(app.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ __typename }' }),
  });
  expect(response.status).toBe(200);
  expectCommonHeaders(response);
  expect(response.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
});

test.each([
  ['a query that does not parse', { method: 'POST', body: '{"query":"{ me {"}' }, 400],
  ['a body over the limit', { method: 'POST', body: 'x'.repeat(2 * 1024 * 1024) }, 413],
  ['a method the route does not take', { method: 'PUT', body: '{}' }, 405],
])('%s is answered with no-store and nosniff', async (_, init, status) => {
  const response = await fetch(app.url, { ...init, headers: { 'content-type': 'application/json' } });
  expect(response.status).toBe(status);
  expectCommonHeaders(response);
  expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
});

test('the landing page carries a policy that allows its scripts and frame and nothing else', async () => {
  const response = await fetch(app.url, { headers: { accept: 'text/html' } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/html/);
  expectCommonHeaders(response);
  const policy = parsePolicy(response.headers.get('content-security-policy') ?? '');
  expect(policy.get('default-src')).toEqual(["'none'"]);
  expect(policy.get('frame-ancestors')).toEqual(["'none'"]);
  const html = await response.text();

  const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((match) => match[1] ?? '');
  expect(scripts.length).toBeGreaterThan(0);
  for (const attributes of scripts) {
    const src = /src="([^"]+)"/.exec(attributes)?.[1];
    const nonce = /nonce="([^"]+)"/.exec(attributes)?.[1];
    const allowedBySource = src !== undefined && policy.get('script-src')?.includes(new URL(src).origin);
    const allowedByNonce = nonce !== undefined && policy.get('script-src')?.includes(`'nonce-${nonce}'`);
    expect(allowedBySource || allowedByNonce).toBe(true);
    // An inline script runs only by its nonce.
    if (src === undefined) expect(allowedByNonce).toBe(true);
  }
  expect(policy.get('script-src')).not.toContain("'unsafe-inline'");

  // The Sandbox embed script opens its iframe on this origin.
  expect(html).toContain('https://embeddable-sandbox.cdn.apollographql.com/');
  expect(policy.get('frame-src')).toEqual(['https://sandbox.embed.apollographql.com']);
});

test('a second landing page gets a fresh nonce in its policy', async () => {
  const policies = await Promise.all(
    [1, 2].map(async () =>
      (await fetch(app.url, { headers: { accept: 'text/html' } })).headers.get('content-security-policy'),
    ),
  );
  expect(policies[0]).not.toBe(policies[1]);
});

function parsePolicy(header: string): Map<string, string[]> {
  const policy = new Map<string, string[]>();
  for (const directive of header.split(';')) {
    const [name, ...sources] = directive.trim().split(/\s+/);
    if (name) policy.set(name, sources);
  }
  return policy;
}
