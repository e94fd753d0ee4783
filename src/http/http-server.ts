import { createServer as createNodeServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { drainAndClose } from './drain.js';

export interface HttpServer {
  readonly server: Server;
  /** Starts listening; resolves with the URL of the GraphQL endpoint. */
  listen(port: number, host: string): Promise<string>;
  /** Stops accepting and lets in-flight requests finish. */
  stop(): Promise<void>;
}

export function createHttpServer(handleRequest: RequestListener): HttpServer {
  const server = createNodeServer(handleRequest);
  // Longer than the usual load balancer's idle timeout (60 s), so that it, not Tessera, closes first.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 30_000;
  return {
    server,
    listen: (port, host) => listen(server, port, host),
    stop: () => drainAndClose(server),
  };
}

function listen(server: Server, port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolve(`http://${shownHost}:${address.port}/graphql`);
    });
  });
}
