// Apollo's landing page as Tessera serves it: Sandbox outside production, set up so that a
// cookie session works from it; production keeps Apollo's static landing page as it comes.
import type { ApolloServerPlugin } from '@apollo/server';
import {
  ApolloServerPluginLandingPageLocalDefault,
  ApolloServerPluginLandingPageProductionDefault,
} from '@apollo/server/plugin/landingPage/default';

/** Sent with every Sandbox operation: Apollo's CSRF prevention lets a GET through only with it. */
export const SANDBOX_SHARED_HEADERS: Readonly<Record<string, string>> = { 'apollo-require-preflight': 'true' };

export function createLandingPage(isProduction: boolean): ApolloServerPlugin {
  if (isProduction) return ApolloServerPluginLandingPageProductionDefault();
  return ApolloServerPluginLandingPageLocalDefault({
    // The refresh_token_cookie of a `transport: COOKIE` login goes back with Sandbox's `refresh`.
    includeCookies: true,
    embed: { initialState: { sharedHeaders: { ...SANDBOX_SHARED_HEADERS } } },
  });
}
