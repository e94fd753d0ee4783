// Who sent a request: the socket's peer or, when that peer is a trusted proxy, the nearest
// address the proxies vouch for in X-Forwarded-For or Forwarded (RFC 7239). The answer is always
// a normalised address, so that one client is one rate-limit key and one session `ip`, whatever
// port, brackets or zone a proxy wrote around it. The headers are read only from a trusted peer:
// believing them from anyone would let a client pick its own address.
import type { IncomingMessage } from 'node:http';
import ipaddr from 'ipaddr.js';
import proxyaddr from 'proxy-addr';

type TrustFunction = ReturnType<typeof proxyaddr.compile>;

/** One hop of a forwarding header, nearest first: its address, or null where it named none. */
type Hop = string | null;

export function clientAddressResolver(trustProxy: readonly string[]): (request: IncomingMessage) => string | null {
  if (trustProxy.length === 0) return (request) => normaliseAddress(request.socket.remoteAddress ?? '');
  const trusted = proxyaddr.compile([...trustProxy]);
  return (request) => {
    const peer = normaliseAddress(request.socket.remoteAddress ?? '');
    if (peer === null) return null;
    const forwardedFor = headerText(request.headers['x-forwarded-for']);
    const forwarded = headerText(request.headers.forwarded);
    const fromForwardedFor =
      forwardedFor === undefined ? undefined : walk(peer, parseForwardedFor(forwardedFor), trusted);
    const fromForwarded = forwarded === undefined ? undefined : walk(peer, parseForwarded(forwarded), trusted);
    if (fromForwardedFor === undefined) return fromForwarded ?? peer;
    if (fromForwarded === undefined || fromForwarded === fromForwardedFor) return fromForwardedFor;
    // The proxy writes one of the two and the client may have sent the other: with no way to tell
    // which is the proxy's, neither is believed and the request counts as the proxy's own.
    return peer;
  };
}

/**
 * proxy-addr's rule over normalised hops: from the socket outwards, the first address that is not
 * a trusted proxy (or the farthest, when all are). A hop that names no address is charged to the
 * trusted proxy that wrote it, so that junk shares that proxy's budget instead of minting its own.
 */
function walk(peer: string, hops: readonly Hop[], trusted: TrustFunction): string {
  let current = peer;
  for (const [index, hop] of hops.entries()) {
    if (!trusted(current, index)) return current;
    if (hop === null) return current;
    current = hop;
  }
  return current;
}

function headerText(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value.join(', ') : value;
  return text === undefined || text.trim() === '' ? undefined : text;
}

/** `client, proxy1, proxy2`: the entries nearest first, as addresses where they are ones. */
function parseForwardedFor(header: string): Hop[] {
  return header.split(',').reverse().map(normaliseAddress);
}

/** `for=192.0.2.60;proto=https, for="[2001:db8::1]:4711"`: each element's `for`, nearest first. */
function parseForwarded(header: string): Hop[] {
  return splitOutsideQuotes(header, ',')
    .reverse()
    .map((element) => {
      for (const pair of splitOutsideQuotes(element, ';')) {
        const equals = pair.indexOf('=');
        if (equals === -1 || pair.slice(0, equals).trim().toLowerCase() !== 'for') continue;
        return normaliseAddress(unquote(pair.slice(equals + 1).trim()));
      }
      return null;
    });
}

/** Splits on `separator` except inside RFC 9110 quoted strings (which may hold it, escaped or not). */
function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (quoted && char === '\\') index++;
    else if (char === '"') quoted = !quoted;
    else if (char === separator && !quoted) {
      parts.push(text.slice(start, index));
      start = index + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function unquote(value: string): string {
  if (value.length < 2 || !value.startsWith('"') || !value.endsWith('"')) return value;
  return value.slice(1, -1).replace(/\\(.)/g, '$1');
}

/**
 * The address an entry names, in one canonical form: `a.b.c.d:port` -> `a.b.c.d`, `[v6]:port` and
 * `[v6]` -> `v6` (RFC 5952), zone ids dropped, IPv4-mapped IPv6 as IPv4. Anything else (`unknown`,
 * RFC 7239's obfuscated `_names`, shorthand IPv4 such as `127.1`) is not an address: null.
 */
function normaliseAddress(entry: string): string | null {
  let text = entry.trim();
  const bracketed = /^\[([^\]]*)\](?::\d{1,5})?$/.exec(text);
  const ipv4WithPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(text);
  if (bracketed) text = bracketed[1];
  else if (ipv4WithPort) text = ipv4WithPort[1];
  text = text.replace(/%.*$/s, '');
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text).toString();
  if (!text.includes(':') || !ipaddr.IPv6.isValid(text)) return null;
  // toRFC5952String is in ipaddr.js 1.9 but missing from its type declarations until 2.0.
  const address = ipaddr.IPv6.parse(text) as ipaddr.IPv6 & { toRFC5952String(): string };
  return address.isIPv4MappedAddress() ? address.toIPv4Address().toString() : address.toRFC5952String();
}
