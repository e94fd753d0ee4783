// What one per-IP budget covers: an IPv4 address, or an IPv6 network.
import { clientNetwork } from '../../src/auth/throttle.js';

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
