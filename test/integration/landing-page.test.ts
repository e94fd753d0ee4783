// The landing page over real HTTP: outside production, Sandbox set up for a cookie session
// (cookies included, the preflight header shared); in production, Apollo's static page as it comes.
import { startTestServer, type TestServer } from '../helpers/test-server.js';

async function landingPage(app: TestServer): Promise<string> {
  const response = await fetch(app.url, { headers: { accept: 'text/html' } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/html/);
  return response.text();
}

/** The settings object Apollo renders into the page for `new window.EmbeddedSandbox(...)`. */
function sandboxSettings(html: string): any {
  const json = /var embeddedSandboxConfig = (\{.*\});/.exec(html)?.[1];
  if (json === undefined) throw new Error('the page renders no Sandbox settings');
  return JSON.parse(json);
}

/** The settings object Apollo's static landing page reads from `window.landingPage`. */
function staticLandingPageSettings(html: string): any {
  const encoded = /window\.landingPage = ("[^"]*");/.exec(html)?.[1];
  if (encoded === undefined) throw new Error('the page renders no landing page settings');
  return JSON.parse(decodeURIComponent(JSON.parse(encoded) as string));
}

describe('outside production', () => {
  let app: TestServer;
  beforeAll(async () => {
    app = await startTestServer();
  });
  afterAll(() => app.stop());

  test('Sandbox sends cookies and the apollo-require-preflight header with every operation', async () => {
    const html = await landingPage(app);
    expect(html).toContain('https://embeddable-sandbox.cdn.apollographql.com/');
    const settings = sandboxSettings(html);
    expect(settings.initialState.includeCookies).toBe(true);
    expect(settings.initialState.sharedHeaders).toEqual({ 'apollo-require-preflight': 'true' });
    // Sandbox talks to the page's own endpoint only.
    expect(settings.endpointIsEditable).toBe(false);
  });
});

describe('in production', () => {
  let app: TestServer;
  beforeAll(async () => {
    app = await startTestServer({ NODE_ENV: 'production', ARGON2_MEMORY_KIB: '19456', ARGON2_TIME_COST: '2' });
  });
  afterAll(() => app.stop());

  test("the page is Apollo's static landing page with its own defaults, not Sandbox", async () => {
    const html = await landingPage(app);
    expect(html).not.toContain('window.EmbeddedSandbox');
    expect(html).toContain('https://apollo-server-landing-page.cdn.apollographql.com/');
    const settings = staticLandingPageSettings(html);
    expect(settings.isProd).toBe(true);
    expect(settings).not.toHaveProperty('includeCookies');
  });
});
