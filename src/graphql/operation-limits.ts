// Limits checked before anything executes. Without them one request could carry a hundred aliased
// logins or a very deep query, and throttling, which counts executions, would be the only defence.
import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import {
  GraphQLError,
  Kind,
  OperationTypeNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import type { Config } from '../config.js';

/** Root mutations that check a credential or a mailed token, mint tokens, or mail someone. */
export const CREDENTIAL_MUTATIONS: ReadonlySet<string> = new Set([
  'signup',
  'login',
  'completeMfaLogin',
  'refresh',
  'reauthenticate',
  'changePassword',
  'verifyEmail',
  'resetPassword',
  'register',
  'requestEmailChange',
  'confirmEmailChange',
  'requestPasswordReset',
  'requestEmailVerification',
]);

export const TOO_MANY_CREDENTIAL_MUTATIONS = 'TOO_MANY_CREDENTIAL_MUTATIONS';

/** Every alias and fragment spread executes, so each one counts. */
export const oneCredentialMutationPerOperation: ValidationRule = (context: ValidationContext) => ({
  OperationDefinition(operation) {
    if (operation.operation !== OperationTypeNode.MUTATION) return;
    const found = countCredentialFields(context, operation.selectionSet, new Set());
    if (found > 1) {
      context.reportError(
        new GraphQLError(
          `At most one of ${[...CREDENTIAL_MUTATIONS].join(', ')} may appear in an operation (found ${found}, aliases included)`,
          { nodes: [operation], extensions: { reason: TOO_MANY_CREDENTIAL_MUTATIONS } },
        ),
      );
    }
  },
});

function countCredentialFields(
  context: ValidationContext,
  selectionSet: SelectionSetNode,
  seenFragments: Set<string>,
): number {
  let count = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (CREDENTIAL_MUTATIONS.has(selection.name.value)) count++;
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      count += countCredentialFields(context, selection.selectionSet, seenFragments);
    } else {
      // A fragment spread twice would execute twice: every spread counts, but a cycle (already
      // refused by graphql-js) must not loop here.
      const name = selection.name.value;
      const fragment = context.getFragment(name);
      if (fragment && !seenFragments.has(name)) {
        count += countCredentialFields(context, fragment.selectionSet, new Set([...seenFragments, name]));
      }
    }
  }
  return count;
}

export function createOperationLimits(config: Config): {
  plugins: ApolloServerPlugin[];
  validationRules: ValidationRule[];
  parseOptions: { maxTokens: number };
} {
  const limits = config.graphql;
  const armor = new ApolloArmor({
    maxDepth: { n: limits.maxDepth, ignoreIntrospection: true, exposeLimits: true },
    maxAliases: { n: limits.maxAliases, exposeLimits: true },
    // Apollo's own parser limit answers 400 GRAPHQL_PARSE_FAILED; Armor's plugin would throw
    // from a request hook, which Apollo answers with a 500.
    maxTokens: { enabled: false },
    maxDirectives: { n: 20, exposeLimits: true },
    costLimit: { maxCost: limits.maxCost, ignoreIntrospection: true, exposeLimits: true },
    // Apollo's hideSchemaDetailsFromClientErrors already removes suggestions in production;
    // developers keep them.
    blockFieldSuggestion: { enabled: false },
  }).protect();
  return {
    // Armor's typings name Apollo's CommonJS build, Tessera loads its ESM build: the same shapes.
    plugins: armor.plugins as unknown as ApolloServerPlugin[],
    validationRules: [...armor.validationRules, oneCredentialMutationPerOperation],
    parseOptions: { maxTokens: limits.maxTokens },
  };
}
