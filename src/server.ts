// The HTTP face of Tessera: POST/GET /graphql through Apollo Server, GET /healthz, nothing else.
// createServer never listens by itself, so tests build as many as they like.
import { ApolloServer, HeaderMap, type HTTPGraphQLRequest } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import type { EntityManager } from '@mikro-orm/postgresql';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import proxyaddr from 'proxy-addr';
import { InvalidationListener } from './auth/invalidation.js';
import { createAuthServices, type AuthServiceOptions, type AuthServices } from './auth/services.js';
import type { Config } from './config.js';
import type { Orm } from './db/orm.js';
import { createContextBuilder, type Context } from './graphql/context.js';
import { createErrorFormatter, ErrorCode } from './graphql/errors.js';
import { createOperationLimits } from './graphql/operation-limits.js';
import { buildTesseraSchema } from './graphql/schema.js';
import { createViewerResultCache } from './graphql/viewer-result-cache.js';
import type { Logger } from './logger.js';

export interface TesseraServer {
  readonly httpServer: Server;
  readonly apollo: ApolloServer<Context>;
  readonly services: AuthServices;
  /** Starts listening; resolves with the URL of the GraphQL endpoint. */
  listen(port?: number, host?: string): Promise<string>;
  /** Stops accepting, lets in-flight requests finish, then stops Apollo. Does not close the ORM. */
  stop(): Promise<void>;
}

const HEALTH_TIMEOUT_MS = 2000;
const SHUTDOWN_DRAIN_MS = 10_000;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function createServer(
  config: Config,
  orm: Orm,
  logger: Logger,
  options: AuthServiceOptions = {},
): Promise<TesseraServer> {
  const databaseUrl = orm.config.get<'clientUrl', string>('clientUrl');
  const services = createAuthServices(config, databaseUrl, options);
  const limits = createOperationLimits(config);
  const schema = await buildTesseraSchema();
  const apollo = new ApolloServer<Context>({
    schema,
    formatError: createErrorFormatter(logger),
    includeStacktraceInErrorResponses: false,
    introspection: config.graphql.introspection,
    // Field suggestions ("Did you mean ...") would name hidden fields to a stranger.
    hideSchemaDetailsFromClientErrors: config.isProduction,
    allowBatchedHttpRequests: false,
    csrfPrevention: true,
    validationRules: limits.validationRules,
    parseOptions: limits.parseOptions,
    plugins: [
      ...limits.plugins,
      // Tessera sets no cache hints; the default plugin would still run a hook on every field.
      ApolloServerPluginCacheControlDisabled(),
      createViewerResultCache(schema),
    ],
  });
  await apollo.start();
  const invalidations = new InvalidationListener(databaseUrl, services.principals, logger);
  await invalidations.start();
  const purgeTimer = setInterval(() => {
    Promise.all([services.sessions.purge(orm.em.fork() as EntityManager), services.throttle.purgeExpired()]).then(
      ([sessions, counters]) =>
        sessions + counters > 0 && logger.info({ sessions, counters }, 'purged ended sessions and expired counters'),
      (error: unknown) => logger.warn({ err: error }, 'purge failed; will retry'),
    );
  }, config.sessions.purgeIntervalSeconds * 1000);
  purgeTimer.unref();
  const buildContext = createContextBuilder(config, orm, services);
  const trustedProxies = proxyaddr.compile([...config.trustProxy]);
  // The socket's peer, unless it is a configured proxy: then the nearest untrusted address of
  // X-Forwarded-For. Believing the header from anyone would let a client pick its own IP.
  const clientAddress = (request: IncomingMessage): string | null =>
    config.trustProxy.length > 0 ? proxyaddr(request, trustedProxies) : (request.socket.remoteAddress ?? null);

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = parseRequestTarget(request.url);
    if (url.pathname === '/healthz') return sendHealth(orm, request, response);
    if (url.pathname !== '/graphql') return sendJson(response, 404, { error: 'not found' });

    const httpGraphQLRequest: HTTPGraphQLRequest = {
      method: request.method?.toUpperCase() ?? 'GET',
      headers: toHeaderMap(request),
      search: url.search,
      body: await readBody(request, config.graphql.maxBodyBytes),
    };
    const clientIp = clientAddress(request);
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest,
      context: () => buildContext(request, clientIp),
    });
    for (const [name, value] of result.headers) response.setHeader(name, value);
    response.statusCode = result.status ?? 200;
    if (result.body.kind === 'complete') {
      response.end(result.body.string);
      return;
    }
    for await (const chunk of result.body.asyncIterator) response.write(chunk);
    response.end();
  };

  const httpServer = createHttpServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (error instanceof HttpError) {
        sendJson(response, error.status, { errors: [{ message: error.message, extensions: { code: error.code } }] });
        return;
      }
      logger.error({ err: error }, 'unexpected error while serving HTTP');
      if (!response.headersSent) {
        sendJson(response, 500, {
          errors: [{ message: 'Internal server error', extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } }],
        });
      } else {
        response.destroy();
      }
    });
  });
  httpServer.keepAliveTimeout = 65_000;
  httpServer.headersTimeout = 66_000;
  httpServer.requestTimeout = 30_000;

  return {
    httpServer,
    apollo,
    services,
    listen: (port = config.port, host = config.host) =>
      new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => {
          httpServer.off('error', reject);
          const address = httpServer.address() as AddressInfo;
          const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          resolve(`http://${shownHost}:${address.port}/graphql`);
        });
      }),
    stop: async () => {
      await new Promise<void>((resolve) => {
        if (!httpServer.listening) return resolve();
        // Keep-alive sockets go as soon as they are idle, busy ones once their response is sent;
        // past the drain deadline the rest are cut.
        const sweep = setInterval(() => httpServer.closeIdleConnections(), 50);
        const deadline = setTimeout(() => httpServer.closeAllConnections(), SHUTDOWN_DRAIN_MS);
        httpServer.close(() => {
          clearInterval(sweep);
          clearTimeout(deadline);
          resolve();
        });
        httpServer.closeIdleConnections();
      });
      clearInterval(purgeTimer);
      await apollo.stop();
      await invalidations.stop();
      await services.close();
    },
  };
}

function parseRequestTarget(target: string | undefined): URL {
  try {
    return new URL(target ?? '/', 'http://localhost');
  } catch {
    throw new HttpError(400, 'BAD_REQUEST', 'The request target is not a valid URL');
  }
}

function toHeaderMap(request: IncomingMessage): HeaderMap {
  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  return headers;
}

/** The request body: parsed when it is JSON, refused past `limit` bytes. */
async function readBody(request: IncomingMessage, limit: number): Promise<unknown> {
  if (request.method === 'GET' || request.method === 'HEAD') return undefined;
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const contentType = request.headers['content-type'] ?? '';
  if (!/^application\/(graphql-response\+)?json\b/i.test(contentType)) return text;
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'BAD_REQUEST', 'The request body is not valid JSON');
  }
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, 'PAYLOAD_TOO_LARGE', `The request body is larger than ${limit} bytes`);
}

async function sendHealth(orm: Orm, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD')
    return sendJson(response, 405, { error: 'method not allowed' });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      orm.em.getConnection().execute('select 1'),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), HEALTH_TIMEOUT_MS);
      }),
    ]);
    sendJson(response, 200, { status: 'ok', database: 'up' });
  } catch {
    sendJson(response, 503, { status: 'unavailable', database: 'down' });
  } finally {
    clearTimeout(timer);
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.statusCode = status;
  response.setHeader('content-type', 'application/json; charset=utf-8');
  response.setHeader('cache-control', 'no-store');
  response.end(JSON.stringify(body));
}
