// Apollo Server as Tessera configures it: the masking error formatter, the operation limits, no
// batching, CSRF prevention, the viewer result cache, the landing page and the metrics. Not started: the
// caller starts it.
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLSchema } from 'graphql';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { TesseraMetrics } from '../observability/metrics.js';
import type { Context } from './context.js';
import { createErrorFormatter } from './errors.js';
import { createOperationLimits } from './operation-limits.js';
import { createViewerResultCache } from './fast-path/index.js';
import { createLandingPage } from './landing-page.js';
import { createMetricsPlugin } from './metrics-plugin.js';

/** `metrics`, when given (METRICS_PORT set), counts each response (metrics-plugin.ts). */
export function createApollo(
  schema: GraphQLSchema,
  config: Config,
  logger: Logger,
  metrics?: TesseraMetrics,
): ApolloServer<Context> {
  const limits = createOperationLimits(config);
  return new ApolloServer<Context>({
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
      createLandingPage(config.isProduction),
      ...(metrics ? [createMetricsPlugin(metrics)] : []),
    ],
  });
}
