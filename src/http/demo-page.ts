// GET / : the demo front-end (the files in demo/), a working copy of the browser recipe. Its
// policy forbids inline script, so the page can run only its own file and talk only to Tessera.
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Route } from './handler.js';
import { setCommonHeaders } from './response-headers.js';
import { refuseUnlessReading } from './read-only.js';

export const DEMO_PAGE_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** URL path -> file in demo/ and its content type. */
export const DEMO_FILES: Readonly<Record<string, { file: string; contentType: string }>> = {
  '/': { file: 'index.html', contentType: 'text/html; charset=utf-8' },
  // The pages the mailed links open, at the default MAIL_*_PATH values: the same page, which reads its path.
  '/verify-email': { file: 'index.html', contentType: 'text/html; charset=utf-8' },
  '/reset-password': { file: 'index.html', contentType: 'text/html; charset=utf-8' },
  '/confirm-email-change': { file: 'index.html', contentType: 'text/html; charset=utf-8' },
  '/demo/app.js': { file: 'app.js', contentType: 'text/javascript; charset=utf-8' },
  '/demo/two-factor.js': { file: 'two-factor.js', contentType: 'text/javascript; charset=utf-8' },
  '/demo/svg-image.js': { file: 'svg-image.js', contentType: 'text/javascript; charset=utf-8' },
  '/demo/style.css': { file: 'style.css', contentType: 'text/css; charset=utf-8' },
};

/** The project's demo/ folder, found from this file both in src/http/ (tests) and dist/src/http/ (npm start). */
export function demoFolder(): string {
  let folder = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(folder, 'package.json'))) {
    const parent = path.dirname(folder);
    if (parent === folder) throw new Error('demo page: no package.json above ' + fileURLToPath(import.meta.url));
    folder = parent;
  }
  return path.join(folder, 'demo');
}

/** One route per demo file, read once at start so that a missing file stops the start. */
export function createDemoPageRoutes(folder = demoFolder()): Record<string, Route> {
  const routes: Record<string, Route> = {};
  for (const [urlPath, { file, contentType }] of Object.entries(DEMO_FILES)) {
    const body = readFileSync(path.join(folder, file));
    routes[urlPath] = (request, response) => {
      serveDemoFile(request, response, contentType, body);
      return Promise.resolve();
    };
  }
  return routes;
}

function serveDemoFile(request: IncomingMessage, response: ServerResponse, contentType: string, body: Buffer): void {
  if (refuseUnlessReading(request, response)) return;
  response.statusCode = 200;
  response.setHeader('content-type', contentType);
  setCommonHeaders(response);
  response.setHeader('content-security-policy', DEMO_PAGE_CONTENT_SECURITY_POLICY);
  // The mailed links' pages carry a token in their address.
  response.setHeader('referrer-policy', 'no-referrer');
  // Node sends no body for HEAD by itself.
  response.end(body);
}
