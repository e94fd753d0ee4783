import type { Server } from 'node:http';

const SHUTDOWN_DRAIN_MS = 10_000;

/**
 * Stops accepting and resolves once every connection is gone. Keep-alive sockets go as soon as
 * they are idle, busy ones once their response is sent; past the drain deadline the rest are cut.
 * Hand-written rather than Apollo's drain plugin: it drains keep-alive clients the same way
 * without tracking every socket on every request.
 */
export function drainAndClose(server: Server, deadlineMs = SHUTDOWN_DRAIN_MS): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!server.listening) return resolve();
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    const deadline = setTimeout(() => server.closeAllConnections(), deadlineMs);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(deadline);
      resolve();
    });
    server.closeIdleConnections();
  });
}
