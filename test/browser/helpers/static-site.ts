// The demo files served from another origin, as a front-end's own host would: same paths and
// policy as Tessera serves them, except that the page may connect to Tessera's origin.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { DEMO_FILES, DEMO_PAGE_CONTENT_SECURITY_POLICY, demoFolder } from '../../../src/http/demo-page.js';

export interface StaticSite {
  readonly origin: string;
  /** Every request that reached the site, as `METHOD /path`. */
  readonly requests: readonly string[];
  /** The page, told where Tessera's GraphQL endpoint is. */
  pageUrl(graphqlUrl: string): string;
  stop(): Promise<void>;
}

export async function startStaticSite(connectTo: string): Promise<StaticSite> {
  const policy = DEMO_PAGE_CONTENT_SECURITY_POLICY.replace(
    "connect-src 'self'",
    `connect-src ${new URL(connectTo).origin}`,
  );
  const requests: string[] = [];
  const server = createServer((request, response) => {
    const { pathname } = new URL(request.url ?? '/', 'http://site');
    requests.push(`${request.method} ${pathname}`);
    const entry = Object.hasOwn(DEMO_FILES, pathname) ? DEMO_FILES[pathname] : undefined;
    if (!entry) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': entry.contentType, 'content-security-policy': policy });
    response.end(readFileSync(path.join(demoFolder(), entry.file)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    requests,
    pageUrl: (graphqlUrl) => `${origin}/?api=${encodeURIComponent(graphqlUrl)}`,
    stop: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
