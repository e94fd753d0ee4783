// What one per-IP budget covers (an IPv4 address, or an IPv6 network), and which address a
// request is counted under.
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { clientNetwork } from '../../src/auth/throttle.js';
import { clientAddressResolver } from '../../src/http/client-address.js';

test.each([
  ['an IPv4 address, as it is', '198.51.100.7', 56, '198.51.100.7'],
  ['an IPv4 client through a dual-stack socket, as its IPv4 address', '::ffff:198.51.100.7', 56, '198.51.100.7'],
  ['an IPv4 client behind NAT64 (64:ff9b::/96), as its IPv4 address', '64:ff9b::c633:6407', 56, '198.51.100.7'],
  ['a 6to4 client (2002::/16), as its IPv4 address', '2002:c633:6407:1234::5', 56, '198.51.100.7'],
  ['an IPv6 address, as its /56', '2001:db8:1234:5678:9abc:def0:1:2', 56, '2001:db8:1234:5600::/56'],
  ['another address of the same /56, the same', '2001:db8:1234:56ff::1', 56, '2001:db8:1234:5600::/56'],
  ['an IPv6 address in upper case, the same', '2001:DB8:1234:5678::AB', 56, '2001:db8:1234:5600::/56'],
  ['an IPv6 address, as its /64', '2001:db8:1234:5678:9abc:def0:1:2', 64, '2001:db8:1234:5678::/64'],
  ['a prefix inside a byte', '2001:db8:1234:5678::1', 60, '2001:db8:1234:5670::/60'],
  ['an IPv6 address, whole at 128', '2001:db8::1', 128, '2001:db8::1/128'],
  ['IPv6 loopback', '::1', 56, '::/56'],
  [
    'what is not an address, cut to 64 characters',
    `not-an-address-${'x'.repeat(100)}`,
    56,
    `not-an-address-${'x'.repeat(49)}`,
  ],
])('%s', (_, ip, prefixLength, expected) => {
  expect(clientNetwork(ip, prefixLength)).toBe(expected);
});

describe('the client address', () => {
  const PROXY = '127.0.0.1';
  const behindLoopback = clientAddressResolver(['loopback']);
  const trustingNobody = clientAddressResolver([]);
  const requestFrom = (peer: string | undefined, headers: IncomingHttpHeaders = {}) =>
    ({ socket: { remoteAddress: peer }, headers }) as unknown as IncomingMessage;
  const viaProxy = (headers: IncomingHttpHeaders) => behindLoopback(requestFrom(PROXY, headers));

  test.each([
    ['a bare IPv4 address, as it is', '198.51.100.7', '198.51.100.7'],
    ['an IPv4 address with a port, without the port', '198.51.100.7:50123', '198.51.100.7'],
    ['a bracketed IPv6 address with a port, without brackets or port', '[2001:db8::7]:443', '2001:db8::7'],
    ['a bracketed IPv6 address, without brackets', '[2001:db8::7]', '2001:db8::7'],
    ['an IPv6 address in full and upper case, in RFC 5952 form', '2001:DB8:0:0:0:0:0:7', '2001:db8::7'],
    ['an IPv6 address with a zone id, without the zone', 'fe80::1%eth0', 'fe80::1'],
    ['a bracketed IPv6 address with a zone and a port, as the address', '[fe80::1%25eth0]:8080', 'fe80::1'],
    ['an IPv4-mapped IPv6 address, as its IPv4 address', '::ffff:198.51.100.7', '198.51.100.7'],
    ['a bracketed IPv4-mapped address with a port, as its IPv4 address', '[::ffff:198.51.100.7]:1', '198.51.100.7'],
    [
      'the nearest untrusted entry of a chain, past trusted proxies with ports',
      '203.0.113.5, 127.0.0.9:3000',
      '203.0.113.5',
    ],
    ['every entry trusted, the farthest', '127.0.0.7, 127.0.0.8', '127.0.0.7'],
  ])('X-Forwarded-For: %s', (_, header, expected) => {
    expect(viaProxy({ 'x-forwarded-for': header })).toBe(expected);
  });

  test.each([
    ['a word', 'not-an-address'],
    ['"unknown"', 'unknown'],
    ['an IPv4 address in shorthand', '127.1'],
    ['an IPv4 address with a zero-padded octet', '198.051.100.7'],
    ['an IPv4 address with an octet past 255', '198.51.100.256'],
    ['an IPv6 address with a port but no brackets', '2001:db8::7:443:1:2:3:4:5'],
    ['an empty entry', ''],
  ])('an X-Forwarded-For entry that is not an address (%s) counts as the proxy that wrote it', (_, entry) => {
    expect(viaProxy({ 'x-forwarded-for': `${entry}` })).toBe(PROXY);
    // Even when the client put an address of its choosing before it.
    expect(viaProxy({ 'x-forwarded-for': `203.0.113.5, ${entry}` })).toBe(PROXY);
  });

  test.each([
    ['an IPv4 address', 'for=192.0.2.60', '192.0.2.60'],
    ['a quoted IPv4 address with a port', 'for="192.0.2.60:4711"', '192.0.2.60'],
    ['a quoted bracketed IPv6 address with a port', 'For="[2001:db8:cafe::17]:4711"', '2001:db8:cafe::17'],
    ['an element with other parameters around for', 'proto=https;for=192.0.2.60;by=203.0.113.43', '192.0.2.60'],
    ['a chain, the nearest untrusted element', 'for=192.0.2.43, for="[::1]:80";proto=http', '192.0.2.43'],
    ['a quoted value that holds a comma and a semicolon', 'for=192.0.2.9;x="a,b;c", for=127.0.0.2', '192.0.2.9'],
  ])('Forwarded: %s', (_, header, expected) => {
    expect(viaProxy({ forwarded: header })).toBe(expected);
  });

  test.each([
    ['"unknown"', 'for=unknown'],
    ['an obfuscated identifier', 'for=_hidden'],
    ['an obfuscated identifier with a port', 'for="_gazonk:_port"'],
    ['an element with no for', 'proto=https'],
    ['an element that is not a pair', 'garbage'],
  ])('a Forwarded element naming no address (%s) counts as the proxy that wrote it', (_, element) => {
    expect(viaProxy({ forwarded: `for=203.0.113.5, ${element}` })).toBe(PROXY);
  });

  test('X-Forwarded-For and Forwarded that name the same client are believed', () => {
    expect(viaProxy({ 'x-forwarded-for': '203.0.113.5:1', forwarded: 'for="203.0.113.5:2"' })).toBe('203.0.113.5');
  });

  test('X-Forwarded-For and Forwarded that name different clients are neither believed: the proxy is the client', () => {
    expect(viaProxy({ 'x-forwarded-for': '203.0.113.5', forwarded: 'for=198.51.100.1' })).toBe(PROXY);
  });

  test('the headers are not believed from a peer that is not a trusted proxy', () => {
    const headers = { 'x-forwarded-for': '203.0.113.5', forwarded: 'for=203.0.113.5' };
    expect(behindLoopback(requestFrom('198.51.100.3', headers))).toBe('198.51.100.3');
    expect(trustingNobody(requestFrom(PROXY, headers))).toBe(PROXY);
  });

  test('the socket peer is normalised too, and a socket with no peer has no address', () => {
    expect(trustingNobody(requestFrom('::ffff:198.51.100.3'))).toBe('198.51.100.3');
    expect(behindLoopback(requestFrom('::ffff:127.0.0.1', { 'x-forwarded-for': '203.0.113.5' }))).toBe('203.0.113.5');
    expect(trustingNobody(requestFrom(undefined))).toBeNull();
    expect(behindLoopback(requestFrom(undefined, { 'x-forwarded-for': '203.0.113.5' }))).toBeNull();
  });
});
