// The public error contract: every error a client sees carries one of these codes in
// `extensions.code` (and an AuthFailure in `extensions.reason` where one applies). Anything that
// is not deliberately public is masked: its detail goes to the log, never to the client.
import { ApolloServerErrorCode, unwrapResolverError } from '@apollo/server/errors';
import { ConnectionException } from '@mikro-orm/core';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { AuthError, FORBIDDEN_FAILURES, INPUT_FAILURES } from '../auth/auth-error.js';
import { ThrottledError } from '../auth/throttle.js';
import type { Logger } from '../logger.js';

export enum ErrorCode {
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  NOT_FOUND = 'NOT_FOUND',
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  RATE_LIMITED = 'RATE_LIMITED',
  SERVICE_UNAVAILABLE = 'SERVICE_UNAVAILABLE',
  INTERNAL_SERVER_ERROR = 'INTERNAL_SERVER_ERROR',
}

/** Codes that Apollo Server itself produces for malformed requests: public by nature. */
const APOLLO_PUBLIC_CODES: ReadonlySet<string> = new Set([
  ApolloServerErrorCode.GRAPHQL_PARSE_FAILED,
  ApolloServerErrorCode.GRAPHQL_VALIDATION_FAILED,
  ApolloServerErrorCode.BAD_USER_INPUT,
  ApolloServerErrorCode.BAD_REQUEST,
  ApolloServerErrorCode.PERSISTED_QUERY_NOT_FOUND,
  ApolloServerErrorCode.PERSISTED_QUERY_NOT_SUPPORTED,
  ApolloServerErrorCode.OPERATION_RESOLUTION_FAILURE,
]);

const PUBLIC_CODES: ReadonlySet<string> = new Set([...Object.values(ErrorCode), ...APOLLO_PUBLIC_CODES]);

/** A GraphQL error whose message and extensions are meant for the client. */
export class PublicError extends GraphQLError {
  constructor(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(message, { extensions: { ...extensions, code } });
  }
}

export function forbidden(message = 'You are not allowed to do this'): PublicError {
  return new PublicError(ErrorCode.FORBIDDEN, message);
}

export function notFound(what: string): PublicError {
  return new PublicError(ErrorCode.NOT_FOUND, `${what} not found`);
}

export function fromAuthError(error: AuthError): PublicError {
  const code =
    INPUT_FAILURES.has(error.reason) || error.field !== undefined
      ? ErrorCode.BAD_USER_INPUT
      : FORBIDDEN_FAILURES.has(error.reason)
        ? ErrorCode.FORBIDDEN
        : ErrorCode.UNAUTHENTICATED;
  return new PublicError(code, error.publicMessage, {
    ...error.details,
    reason: error.reason,
    ...(error.field ? { field: error.field } : {}),
  });
}

const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);
/** node-postgres reports a dropped or timed-out connection by message only. */
const PG_CONNECTION_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i;

/**
 * Whether `error` means "the database cannot be reached right now" (as opposed to a bug or a
 * refused statement): network errors, PostgreSQL's connection-exception (08) and
 * operator-intervention (57P) classes, too many connections (53300), and node-postgres's own
 * connection failures, whether MikroORM wrapped them or not.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof ConnectionException) return true;
  if (typeof error !== 'object' || error === null) return false;
  const { code, sqlState, message } = error as { code?: unknown; sqlState?: unknown; message?: unknown };
  const state = typeof sqlState === 'string' ? sqlState : typeof code === 'string' ? code : '';
  // 08P01 (protocol violation) is PostgreSQL refusing a malformed value, not a lost connection.
  if (
    NETWORK_CODES.has(state) ||
    (state.startsWith('08') && state !== '08P01') ||
    state.startsWith('57P') ||
    state === '53300'
  )
    return true;
  if (typeof message === 'string' && PG_CONNECTION_MESSAGES.test(message)) return true;
  return false;
}

function toPublic(error: unknown): GraphQLError | undefined {
  if (error instanceof AuthError) return fromAuthError(error);
  if (error instanceof ThrottledError) {
    return new PublicError(ErrorCode.RATE_LIMITED, error.message, { retryAfter: error.retryAfterSeconds });
  }
  if (error instanceof GraphQLError) {
    const code = error.extensions?.code;
    if (typeof code === 'string' && PUBLIC_CODES.has(code)) return error;
    // graphql-js's own errors (coercion, unknown fields) carry no code but no secret either.
    if (code === undefined && error.originalError === undefined) return error;
  }
  if (isDatabaseUnavailable(error)) {
    return new PublicError(ErrorCode.SERVICE_UNAVAILABLE, 'The service is temporarily unavailable; try again shortly');
  }
  return undefined;
}

/** graphql-js wraps a thrown non-Error (node-postgres throws plain objects) as NonErrorThrown. */
function unwrapThrownValue(error: unknown): unknown {
  const thrown = (error as { thrownValue?: unknown } | null)?.thrownValue;
  return thrown !== undefined ? thrown : error;
}

/** Apollo's formatError: keeps public errors, masks the rest, never sends a stack trace. */
export function createErrorFormatter(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapThrownValue(unwrapResolverError(error));
    const publicError = toPublic(original) ?? (original !== error ? toPublic(error) : undefined);
    if (publicError) {
      // Apollo's `http` extension sets the response's status; it is not part of the body's contract.
      const { stacktrace: _stack, http: _http, ...extensions } = { ...formatted.extensions, ...publicError.extensions };
      // A GraphQLError's message was already formatted by Apollo (e.g. suggestions hidden).
      const message = original instanceof GraphQLError ? formatted.message : publicError.message;
      return { ...formatted, message, extensions };
    }
    logger.error({ err: original, path: formatted.path }, 'unexpected error while serving GraphQL');
    return {
      message: 'Internal server error',
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}
