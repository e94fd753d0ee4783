// The one AuthChecker. Pure: the viewer was resolved when the context was built.
// `@Authorized()` means signed in; roles in the list are alternatives (any one suffices); the
// rules below are extra conditions that must all hold.
import type { AuthCheckerFn } from 'type-graphql';
import { AuthError, AuthFailure } from '../auth/auth-error.js';
import { Role } from '../db/entities/index.js';
import type { Context } from './context.js';
import { forbidden, fromAuthError } from './errors.js';

export enum AccessRule {
  /** The parent object is the viewer's own user record, or the viewer is an ADMIN. */
  SELF_OR_ADMIN = 'SELF_OR_ADMIN',
  /** The access token came from signup, login or reauthenticate, not from a refresh. */
  FRESH = 'FRESH',
}

export type Requirement = Role | AccessRule;

const ROLES: ReadonlySet<string> = new Set(Object.values(Role));

/**
 * Marks a user object handed to the very person it describes, such as the user in the
 * AuthPayload of their own signup or login, where no token was sent yet.
 */
export const OWN_RECORD = Symbol('ownRecord');

export function asOwnRecord<T extends object>(record: T): T {
  return { ...record, [OWN_RECORD]: true };
}

function isOwnRecord(root: unknown): boolean {
  return typeof root === 'object' && root !== null && (root as { [OWN_RECORD]?: boolean })[OWN_RECORD] === true;
}

export const authChecker: AuthCheckerFn<Context, Requirement> = ({ root, context }, requirements) => {
  if (requirements.length === 1 && requirements[0] === AccessRule.SELF_OR_ADMIN && isOwnRecord(root)) return true;
  const { viewer, failure } = context.auth;
  if (!viewer) throw failure instanceof AuthError ? fromAuthError(failure) : failure;
  const roles = viewer.user.roles;
  const isAdmin = roles.includes(Role.ADMIN);
  const requiredRoles = requirements.filter((requirement): requirement is Role => ROLES.has(requirement));
  if (requiredRoles.length > 0 && !requiredRoles.some((role) => roles.includes(role))) {
    throw forbidden();
  }
  if (
    requirements.includes(AccessRule.SELF_OR_ADMIN) &&
    !isAdmin &&
    (root as { id?: unknown })?.id !== viewer.user.id
  ) {
    throw forbidden();
  }
  if (requirements.includes(AccessRule.FRESH) && !viewer.fresh) {
    throw fromAuthError(
      new AuthError(AuthFailure.FRESH_TOKEN_REQUIRED, 'This action needs a fresh token: log in or reauthenticate'),
    );
  }
  return true;
};
