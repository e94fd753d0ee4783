// The HTTP face of Tessera, composed from its parts: Apollo, the HTTP routes (/graphql, /healthz,
// the demo page at /), the background jobs, the mail worker, the security log and, when
// METRICS_PORT is set, the metrics with their own listener. createServer never listens by
// itself, so tests build as many as they like.
import type { ApolloServer } from '@apollo/server';
import type { Server } from 'node:http';
import { attachSecurityLog } from './auth/audit.js';
import { createBackgroundJobs } from './auth/background-jobs.js';
import { createAuthServices, type AuthServiceOptions, type AuthServices } from './auth/services.js';
import type { Config } from './config.js';
import type { Orm } from './db/orm.js';
import { createApollo } from './graphql/apollo.js';
import { createContextBuilder, type Context } from './graphql/context.js';
import { buildTesseraSchema, type SchemaOptions } from './graphql/schema.js';
import { clientAddressResolver } from './http/client-address.js';
import { corsAllowedHeaders, createAllowedOrigins, withCors } from './http/cors.js';
import { createDemoPageRoutes } from './http/demo-page.js';
import { createGraphQLRoute } from './http/graphql-route.js';
import { createRequestHandler } from './http/handler.js';
import { sendHealth } from './http/health.js';
import { createHttpServer } from './http/http-server.js';
import { createMetricsListener } from './http/metrics-listener.js';
import { createTokenCookies } from './http/token-cookies.js';
import { createWellKnownRoutes } from './http/well-known.js';
import type { Logger } from './logger.js';
import { createMailWorker } from './mail/worker.js';
import { TesseraMetrics } from './observability/metrics.js';
import { SecurityLog } from './observability/security-log.js';

export interface ServerOptions extends AuthServiceOptions {
  readonly config: Config;
  readonly orm: Orm;
  /** The database the ORM was opened on: the statement pool uses it too, and so does the LISTEN
   *  connection unless DATABASE_LISTEN_URL points it elsewhere. */
  readonly databaseUrl: string;
  readonly logger: Logger;
  /** Resolver classes served beside Tessera's own (SchemaOptions.extraResolvers). */
  readonly extraResolvers?: SchemaOptions['extraResolvers'];
}

export interface TesseraServer {
  readonly httpServer: Server;
  readonly apollo: ApolloServer<Context>;
  readonly services: AuthServices;
  /** Present when METRICS_PORT is set. */
  readonly metrics: TesseraMetrics | undefined;
  /** Starts listening (and the metrics listener, if any); resolves with the URL of the GraphQL endpoint. */
  listen(port?: number, host?: string): Promise<string>;
  /** The URL of /metrics once listening; undefined without METRICS_PORT. */
  metricsUrl(): string | undefined;
  /** Stops accepting, lets in-flight requests finish, then stops the other parts. Does not close the ORM. */
  stop(): Promise<void>;
}

export async function createServer({
  config,
  orm,
  databaseUrl,
  logger,
  extraResolvers,
  ...serviceOptions
}: ServerOptions): Promise<TesseraServer> {
  const metrics = config.metrics.port === undefined ? undefined : new TesseraMetrics();
  const services = createAuthServices(config, databaseUrl, { observer: metrics, ...serviceOptions, logger });
  const detachSecurityLog = attachSecurityLog(orm.em, Object.values(services.statementPools), new SecurityLog(logger));
  const apollo = createApollo(
    await buildTesseraSchema({ fastPaths: config.graphql.fastPaths, extraResolvers }),
    config,
    logger,
    metrics,
  );
  await apollo.start();
  const jobs = createBackgroundJobs(config, orm, services, config.databaseListenUrl ?? databaseUrl, logger);
  await jobs.start();
  const ormPool = metrics ? await orm.em.getConnection().getNativeClient() : undefined;
  metrics?.watch({
    principalCache: () => services.principals.cacheSize(),
    invalidationListener: () => jobs.listenerState(),
    databasePools: () => ({
      ...(ormPool ? { orm: poolState(ormPool) } : {}),
      statements: poolState(services.statementPools.requests),
      deferred_statements: poolState(services.statementPools.deferred),
    }),
  });
  const metricsListener = metrics ? createMetricsListener(metrics, logger) : undefined;
  let metricsUrl: string | undefined;
  const mailWorker = createMailWorker(config, orm, logger);
  mailWorker.start();

  const origins = createAllowedOrigins(config.cors);
  const serveGraphQL = createGraphQLRoute({
    apollo,
    buildContext: createContextBuilder(config, orm, services),
    tokenCookies: createTokenCookies(config, origins),
    clientAddress: clientAddressResolver(config.trustProxy),
    maxBodyBytes: config.graphql.maxBodyBytes,
  });
  const http = createHttpServer(
    createRequestHandler(
      {
        '/graphql': withCors(serveGraphQL, {
          origins,
          allowedHeaders: corsAllowedHeaders(config),
          maxAgeSeconds: config.cors.maxAgeSeconds,
        }),
        '/healthz': (request, response) => sendHealth(orm, request, response),
        ...createWellKnownRoutes(config, services.tokens.keys),
        ...(config.demoPage ? createDemoPageRoutes() : {}),
      },
      logger,
    ),
  );

  return {
    httpServer: http.server,
    apollo,
    services,
    metrics,
    listen: async (port = config.port, host = config.host) => {
      const url = await http.listen(port, host);
      if (metricsListener && config.metrics.port !== undefined)
        metricsUrl = await metricsListener.listen(config.metrics.port, config.metrics.host);
      return url;
    },
    metricsUrl: () => metricsUrl,
    stop: async () => {
      await http.stop();
      await metricsListener?.stop();
      await apollo.stop();
      await jobs.stop();
      await mailWorker.stop();
      await services.close();
      detachSecurityLog();
    },
  };
}

function poolState(pool: { totalCount: number; idleCount: number; waitingCount: number }) {
  return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
}
