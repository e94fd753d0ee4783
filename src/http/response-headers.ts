// The headers every /graphql answer carries: nothing cached (tokens travel in bodies), no MIME
// sniffing, and a Content-Security-Policy that lets a page load only what it needs.
import type { ServerResponse } from 'node:http';

/** For JSON: the browser is to run, frame or fetch nothing on its account. */
export const JSON_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'";

// What Apollo's landing pages load: the Sandbox embed (outside production) or the static landing
// page (in production), their fonts and icons, and the Sandbox iframe.
const LANDING_PAGE_SCRIPTS = [
  'https://embeddable-sandbox.cdn.apollographql.com',
  'https://apollo-server-landing-page.cdn.apollographql.com',
];
const LANDING_PAGE_STYLES = [...LANDING_PAGE_SCRIPTS, 'https://fonts.googleapis.com'];
const LANDING_PAGE_ASSETS = 'https://apollo-server-landing-page.cdn.apollographql.com';
const LANDING_PAGE_FRAMES = 'https://sandbox.embed.apollographql.com';

/** The landing page's policy; its inline scripts and styles are allowed by the nonce Apollo gave them. */
export function landingPageContentSecurityPolicy(nonce: string | undefined): string {
  const nonceSource = nonce === undefined ? [] : [`'nonce-${nonce}'`];
  return [
    "default-src 'none'",
    `script-src ${[...nonceSource, ...LANDING_PAGE_SCRIPTS].join(' ')}`,
    `style-src ${[...nonceSource, ...LANDING_PAGE_STYLES].join(' ')}`,
    `img-src ${LANDING_PAGE_ASSETS}`,
    `manifest-src ${LANDING_PAGE_ASSETS}`,
    'font-src https://fonts.gstatic.com',
    `frame-src ${LANDING_PAGE_FRAMES}`,
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const NONCE = /<script nonce="([0-9a-f]+)"/;

/** Apollo renders a fresh nonce into each landing page (its plugin takes none of ours); the policy must name it. */
export function landingPageNonce(html: string): string | undefined {
  return NONCE.exec(html)?.[1];
}

export function setCommonHeaders(response: ServerResponse): void {
  response.setHeader('cache-control', 'no-store');
  response.setHeader('x-content-type-options', 'nosniff');
}
