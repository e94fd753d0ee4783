// The demo page over real HTTP: its files and their headers, no inline script for the policy to
// allow, DEMO_PAGE=off, and the compiled server finding the same files from its own folder.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DEMO_PAGE_CONTENT_SECURITY_POLICY } from '../../src/http/demo-page.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const FILES = [
  { path: '/', file: 'demo/index.html', type: 'text/html; charset=utf-8' },
  { path: '/verify-email', file: 'demo/index.html', type: 'text/html; charset=utf-8' },
  { path: '/reset-password', file: 'demo/index.html', type: 'text/html; charset=utf-8' },
  { path: '/confirm-email-change', file: 'demo/index.html', type: 'text/html; charset=utf-8' },
  { path: '/demo/app.js', file: 'demo/app.js', type: 'text/javascript; charset=utf-8' },
  { path: '/demo/two-factor.js', file: 'demo/two-factor.js', type: 'text/javascript; charset=utf-8' },
  { path: '/demo/svg-image.js', file: 'demo/svg-image.js', type: 'text/javascript; charset=utf-8' },
  { path: '/demo/style.css', file: 'demo/style.css', type: 'text/css; charset=utf-8' },
];

/** `/graphql`'s URL with another path. */
const at = (graphqlUrl: string, path: string) => new URL(path, graphqlUrl).toString();

let database: TestDatabase;
let app: TestServer;
beforeAll(async () => {
  database = await createTestDatabase();
  app = await startTestServer({}, database);
});
afterAll(async () => {
  await app?.stop();
  await database?.drop();
});

describe('served by default outside production', () => {
  test.each(FILES)('GET $path answers demo/ file $file with its type and the strict headers', async (expected) => {
    const response = await fetch(at(app.url, expected.path));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(readFileSync(expected.file, 'utf8'));
    expect({
      type: response.headers.get('content-type'),
      cache: response.headers.get('cache-control'),
      sniff: response.headers.get('x-content-type-options'),
      policy: response.headers.get('content-security-policy'),
      referrer: response.headers.get('referrer-policy'),
    }).toEqual({
      type: expected.type,
      cache: 'no-store',
      sniff: 'nosniff',
      policy: DEMO_PAGE_CONTENT_SECURITY_POLICY,
      referrer: 'no-referrer',
    });
  });

  test('the policy allows only the page own files and Tessera, and forbids inline script, framing and forms', () => {
    expect(DEMO_PAGE_CONTENT_SECURITY_POLICY.split('; ').sort()).toEqual([
      "base-uri 'none'",
      "connect-src 'self'",
      "default-src 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
      "script-src 'self'",
      "style-src 'self'",
    ]);
  });

  test('the page has no inline script or style, which the policy would refuse to run', () => {
    const html = readFileSync('demo/index.html', 'utf8');
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.map(([, attributes, content]) => ({ attributes: attributes.trim(), content }))).toEqual([
      { attributes: 'type="module" src="/demo/app.js"', content: '' },
    ]);
    expect(html).not.toMatch(/<style|\son[a-z]+=|style=|javascript:/i);
  });

  test('HEAD answers the headers without a body; other methods get 405', async () => {
    const head = await fetch(at(app.url, '/'), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await head.text()).toBe('');
    const post = await fetch(at(app.url, '/'), { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  test('other paths under /demo/ are not served', async () => {
    for (const path of ['/demo/', '/demo/index.html', '/demo/../package.json', '/index.html', '/demo/app.js/'])
      expect({ path, status: (await fetch(at(app.url, path))).status }).toEqual({ path, status: 404 });
  });
});

test('DEMO_PAGE=off: / and the script are the usual 404, /graphql still answers', async () => {
  const off = await startTestServer({ DEMO_PAGE: 'off' }, database);
  try {
    for (const { path } of FILES)
      expect({ path, status: (await fetch(at(off.url, path))).status }).toEqual({ path, status: 404 });
    expect((await off.client.request('{ __typename }')).data).toEqual({ __typename: 'Query' });
  } finally {
    await off.stop();
  }
});

describe('the compiled server', () => {
  let built: ServerProcess;
  beforeAll(async () => {
    built = await startServerProcess({
      DATABASE_URL: database.url,
      JWT_SECRET_KEY: randomBytes(32).toString('base64url'),
    });
  }, 60_000);
  afterAll(() => built?.stop());

  test('finds demo/ from its own folder and serves the same page', async () => {
    const response = await fetch(at(built.url, '/'));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(readFileSync('demo/index.html', 'utf8'));
  });
});
