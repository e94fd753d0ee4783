// /metrics on a listener of its own (METRICS_PORT, METRICS_HOST): the public port never serves
// it, so whoever can reach the API cannot read how it is used. Started and stopped with the server.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger.js';
import type { TesseraMetrics } from '../observability/metrics.js';
import { createRequestHandler } from './handler.js';
import { createHttpServer } from './http-server.js';
import { refuseUnlessReading } from './read-only.js';

export interface MetricsListener {
  /** Resolves with the URL of /metrics. */
  listen(port: number, host: string): Promise<string>;
  stop(): Promise<void>;
}

export function createMetricsListener(metrics: TesseraMetrics, logger: Logger): MetricsListener {
  const http = createHttpServer(
    createRequestHandler({ '/metrics': (request, response) => sendMetrics(metrics, request, response) }, logger),
  );
  return {
    async listen(port, host) {
      await http.listen(port, host);
      const address = http.server.address() as AddressInfo;
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      return `http://${shownHost}:${address.port}/metrics`;
    },
    stop: () => http.stop(),
  };
}

async function sendMetrics(metrics: TesseraMetrics, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (refuseUnlessReading(request, response)) return;
  const { contentType, body } = await metrics.exposition();
  response.statusCode = 200;
  response.setHeader('content-type', contentType);
  response.setHeader('cache-control', 'no-store');
  response.end(request.method === 'HEAD' ? undefined : body);
}
