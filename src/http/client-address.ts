// Which address a request came from, as recorded for throttling and the audit trail.
import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';

/**
 * The socket's peer, unless it is a configured proxy: then the nearest untrusted address of
 * X-Forwarded-For. Believing the header from anyone would let a client pick its own IP.
 */
export function clientAddressResolver(trustProxy: readonly string[]): (request: IncomingMessage) => string | null {
  const trustedProxies = proxyaddr.compile([...trustProxy]);
  return function clientAddress(request: IncomingMessage): string | null {
    return trustProxy.length > 0 ? proxyaddr(request, trustedProxies) : (request.socket.remoteAddress ?? null);
  };
}
