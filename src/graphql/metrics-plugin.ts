// Counts what each GraphQL response says, where the outcome is already known: the duration by
// operation type, the results of login and signup, refresh's refusals (its successes, rotated or
// grace, only the session service can tell apart), the token rejections and the fields
// refused as RATE_LIMITED. It reads the formatted response, so a resolver needs no metrics code.
// Label values come only from closed sets (AuthFailure, ErrorCode, the schema's root fields): an
// alias or anything else a client chose never becomes one.
import type { ApolloServerPlugin, GraphQLRequestContextWillSendResponse } from '@apollo/server';
import { type GraphQLFormattedError, Kind, type OperationDefinitionNode, OperationTypeNode } from 'graphql';
import { AuthFailure } from '../auth/auth-error.js';
import type { TesseraMetrics } from '../observability/metrics.js';
import type { Context } from './context.js';
import { ErrorCode } from './errors.js';

const REASONS: ReadonlySet<string> = new Set(Object.values(AuthFailure));
const CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode));
const RATE_LIMITED: string = ErrorCode.RATE_LIMITED;
const UNAUTHENTICATED: string = ErrorCode.UNAUTHENTICATED;
/** The reasons that mean the presented token or session was refused. */
const TOKEN_REASONS: ReadonlySet<string> = new Set([
  AuthFailure.TOKEN_MISSING,
  AuthFailure.TOKEN_INVALID,
  AuthFailure.TOKEN_EXPIRED,
  AuthFailure.TOKEN_REVOKED,
  AuthFailure.SESSION_EXPIRED,
  AuthFailure.REFRESH_TOKEN_REUSED,
  AuthFailure.FRESH_TOKEN_REQUIRED,
  AuthFailure.CSRF_FAILED,
]);
const REFRESH_RESULTS: Readonly<Record<string, string>> = {
  [AuthFailure.REFRESH_TOKEN_REUSED]: 'reused',
  [AuthFailure.SESSION_EXPIRED]: 'expired',
  [AuthFailure.TOKEN_EXPIRED]: 'expired',
  [AuthFailure.TOKEN_INVALID]: 'invalid',
};

export function createMetricsPlugin(metrics: TesseraMetrics): ApolloServerPlugin<Context> {
  const outcomes: Record<string, { counter: { inc(labels: { result: string }): void }; success?: string }> = {
    login: { counter: metrics.logins, success: 'success' },
    // A two-factor login's second step: its success is the login's.
    completeMfaLogin: { counter: metrics.logins, success: 'success' },
    signup: { counter: metrics.signups, success: 'success' },
    refresh: { counter: metrics.refreshes },
  };
  return {
    requestDidStart() {
      const started = performance.now();
      return Promise.resolve({
        willSendResponse(request) {
          count(request, (performance.now() - started) / 1000);
          return Promise.resolve();
        },
      });
    },
  };

  function count(request: GraphQLRequestContextWillSendResponse<Context>, seconds: number): void {
    const operationType: string = request.operation?.operation ?? 'invalid';
    metrics.graphqlDuration.observe({ operation_type: operationType }, seconds);
    const body = request.response.body;
    if (body.kind !== 'single' || !request.operation) return;
    const errors = body.singleResult.errors ?? [];
    // A query without errors (`me`, the hot path) has nothing else to count.
    if (errors.length === 0 && operationType !== 'mutation') return;
    countTokenRejections(metrics, errors);
    const fields = rootFields(request.operation, request);
    for (const [responseKey, fieldName] of fields) {
      const fieldErrors = errors.filter((error) => error.path?.[0] === responseKey);
      if (fieldErrors.some((error) => error.extensions?.code === RATE_LIMITED)) {
        metrics.rateLimited.inc({ field: fieldName });
      }
      const outcome = operationType === 'mutation' ? outcomes[fieldName] : undefined;
      if (!outcome) continue;
      const data = body.singleResult.data;
      if (fieldErrors.length > 0) outcome.counter.inc({ result: resultOf(fieldName, fieldErrors[0]) });
      else if (outcome.success && data?.[responseKey] != null) outcome.counter.inc({ result: outcome.success });
    }
  }
}

function countTokenRejections(metrics: TesseraMetrics, errors: readonly GraphQLFormattedError[]): void {
  let counted: Set<string> | undefined;
  for (const error of errors) {
    const reason = error.extensions?.reason;
    if (error.extensions?.code !== UNAUTHENTICATED || typeof reason !== 'string') continue;
    if (!TOKEN_REASONS.has(reason) || counted?.has(reason)) continue;
    (counted ??= new Set()).add(reason);
    metrics.tokenRejections.inc({ reason: reason.toLowerCase() });
  }
}

function resultOf(fieldName: string, error: GraphQLFormattedError): string {
  const reason = error.extensions?.reason;
  const code = error.extensions?.code;
  if (typeof reason === 'string' && REASONS.has(reason)) {
    return fieldName === 'refresh' ? (REFRESH_RESULTS[reason] ?? reason.toLowerCase()) : reason.toLowerCase();
  }
  if (typeof code === 'string' && CODES.has(code)) return code.toLowerCase();
  return 'error';
}

/** Each root field's response key (its alias, if any) and its name in the schema. */
function rootFields(
  operation: OperationDefinitionNode,
  request: GraphQLRequestContextWillSendResponse<Context>,
): [string, string][] {
  const rootType =
    operation.operation === OperationTypeNode.MUTATION
      ? request.schema.getMutationType()
      : request.schema.getQueryType();
  const known = rootType?.getFields() ?? {};
  const fields: [string, string][] = [];
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD || !Object.hasOwn(known, selection.name.value)) continue;
    fields.push([selection.alias?.value ?? selection.name.value, selection.name.value]);
  }
  return fields;
}
