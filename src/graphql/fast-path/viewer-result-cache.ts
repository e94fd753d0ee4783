// Answers a query made only of fields that are functions of the viewer's user (`me { id username
// email roles }`) from that user's previous result, without running graphql-js again: executing
// such a selection cost more than everything else `me` does (README, Performance). Only fields
// the fast paths checked count (answered-from-viewer.ts): with them off, nothing is remembered.
//
// Why it cannot serve stale or foreign data: results hang off the principal cache's UserView
// object (principal.ts), which is replaced whenever the user changes and dropped on every
// invalidation, so a result lives exactly as long as the data it was computed from. The
// request's token was verified and its session checked before this runs, like any other request;
// a request without a viewer never reaches the cache. Results with errors are not kept.
import type { ApolloServerPlugin, GraphQLRequestContext, GraphQLRequestListener } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import {
  getNamedType,
  GraphQLObjectType,
  Kind,
  OperationTypeNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { UserView } from '../../auth/user-view.js';
import { Role } from '../../db/entities/index.js';
import { AccessRule } from '../auth-checker.js';
import type { Context } from '../context.js';
import { isAnsweredFromViewer } from './answered-from-viewer.js';
import { PLAIN_PROPERTY } from './synchronous-authorization.js';

/** Distinct cacheable operations remembered per user: clients send one or two. */
const MAX_RESULTS_PER_USER = 2;

/**
 * Which operation of which document: by the query's hash, not the parsed document, so that a
 * kept result holds nothing of the request's text (Apollo's document store stays the only,
 * bounded, keeper of parsed queries).
 */
function operationKey(context: GraphQLRequestContext<Context>): string {
  return `${context.queryHash ?? ''}\0${context.operationName ?? ''}`;
}

type Data = Record<string, unknown>;

export function createViewerResultCache(schema: GraphQLSchema): ApolloServerPlugin<Context> {
  if (!Object.values(schema.getQueryType()?.getFields() ?? {}).some(isAnsweredFromViewer)) return {};
  const cacheable = new WeakMap<OperationDefinitionNode, boolean>();
  const results = new WeakMap<UserView, Map<string, Data>>();

  const isCacheable = (context: GraphQLRequestContext<Context>): boolean => {
    const operation = context.operation;
    if (!operation || context.queryHash === undefined || !context.contextValue.auth.viewer) return false;
    let verdict = cacheable.get(operation);
    if (verdict === undefined) {
      verdict = answersFromViewerOnly(schema, operation, context.document);
      cacheable.set(operation, verdict);
    }
    return verdict;
  };

  return {
    requestDidStart() {
      let toKeep: { user: UserView; key: string } | undefined;
      const listener: GraphQLRequestListener<Context> = {
        responseForOperation(context) {
          if (!isCacheable(context)) return Promise.resolve(null);
          const user = context.contextValue.auth.viewer!.user;
          const key = operationKey(context);
          const data = results.get(user)?.get(key);
          if (data)
            return Promise.resolve({
              http: { status: undefined, headers: new HeaderMap() },
              body: { kind: 'single', singleResult: { data } },
            });
          toKeep = { user, key };
          return Promise.resolve(null);
        },
        willSendResponse(context) {
          const body = context.response.body;
          if (toKeep && body.kind === 'single' && !body.singleResult.errors && body.singleResult.data) {
            let kept = results.get(toKeep.user);
            if (!kept) results.set(toKeep.user, (kept = new Map<string, Data>()));
            if (kept.size >= MAX_RESULTS_PER_USER) kept.clear();
            kept.set(toKeep.key, deepFreeze(body.singleResult.data));
          }
          return Promise.resolve();
        },
      };
      return Promise.resolve(listener);
    },
  };
}

/**
 * A query without variables whose root fields are all @AnsweredFromViewer (or __typename), and
 * whose fields below them are all plain properties (or __typename), through any fragments.
 */
export function answersFromViewerOnly(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  document: DocumentNode | undefined,
): boolean {
  if (operation.operation !== OperationTypeNode.QUERY || (operation.variableDefinitions?.length ?? 0) > 0) return false;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document?.definitions ?? []) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const query = schema.getQueryType();
  return (
    query !== null &&
    query !== undefined &&
    selectsOnly(schema, query, operation.selectionSet, fragments, isAnsweredFromViewer, new Set())
  );
}

type FieldTest = (field: GraphQLField<unknown, unknown>) => boolean;

/** Roles and SELF_OR_ADMIN are decided by the viewer's user and the root; FRESH by the token. */
const DECIDED_BY_USER: ReadonlySet<string> = new Set<string>([...Object.values(Role), AccessRule.SELF_OR_ADMIN]);

const isPlainPropertyOfUser: FieldTest = (field) => {
  const requirements = (field.extensions as Record<symbol, unknown>)[PLAIN_PROPERTY];
  return (
    Array.isArray(requirements) &&
    requirements.every((requirement: unknown) => typeof requirement === 'string' && DECIDED_BY_USER.has(requirement))
  );
};

function selectsOnly(
  schema: GraphQLSchema,
  type: GraphQLObjectType,
  selectionSet: SelectionSetNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  allowed: FieldTest,
  visiting: Set<string>,
): boolean {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value === '__typename') continue;
      const field = type.getFields()[selection.name.value];
      if (!field || (selection.arguments?.length ?? 0) > 0 || !allowed(field)) return false;
      const named = getNamedType(field.type);
      if (selection.selectionSet) {
        if (
          !(named instanceof GraphQLObjectType) ||
          !selectsOnly(schema, named, selection.selectionSet, fragments, isPlainPropertyOfUser, visiting)
        )
          return false;
      }
      continue;
    }
    const fragment = selection.kind === Kind.FRAGMENT_SPREAD ? fragments.get(selection.name.value) : selection;
    if (!fragment || (selection.kind === Kind.FRAGMENT_SPREAD && visiting.has(selection.name.value))) return false;
    const condition = fragment.typeCondition ? schema.getType(fragment.typeCondition.name.value) : type;
    if (condition !== type) return false;
    if (selection.kind === Kind.FRAGMENT_SPREAD) visiting.add(selection.name.value);
    const ok = selectsOnly(schema, type, fragment.selectionSet, fragments, allowed, visiting);
    if (selection.kind === Kind.FRAGMENT_SPREAD) visiting.delete(selection.name.value);
    if (!ok) return false;
  }
  return true;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
