// The HTTP face of Tessera, composed from its parts: Apollo, the HTTP routes (/graphql, /healthz,
// the demo page at /), the background jobs and the mail worker. createServer never listens by
// itself, so tests build as many as they like.
import type { ApolloServer } from '@apollo/server';
import type { Server } from 'node:http';
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
import { createTokenCookies } from './http/token-cookies.js';
import { createWellKnownRoutes } from './http/well-known.js';
import type { Logger } from './logger.js';
import { createMailWorker } from './mail/worker.js';

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
  /** Starts listening; resolves with the URL of the GraphQL endpoint. */
  listen(port?: number, host?: string): Promise<string>;
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
  const services = createAuthServices(config, databaseUrl, { ...serviceOptions, logger });
  const schema = await buildTesseraSchema({ fastPaths: config.graphql.fastPaths, extraResolvers });
  const apollo = createApollo(schema, config, logger);
  await apollo.start();
  const jobs = createBackgroundJobs(config, orm, services, config.databaseListenUrl ?? databaseUrl, logger);
  await jobs.start();
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
    listen: (port = config.port, host = config.host) => http.listen(port, host),
    stop: async () => {
      await http.stop();
      await apollo.stop();
      await jobs.stop();
      await mailWorker.stop();
      await services.close();
    },
  };
}
