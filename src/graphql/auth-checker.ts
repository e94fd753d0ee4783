// The one AuthChecker. Pure where it grants: the viewer was resolved when the context was built.
// `@Authorized()` means signed in; roles in the list are alternatives (any one suffices); the
// rules below are extra conditions that must all hold. A refusal for want of a second factor
// offers a step-up challenge, bound to the user's password hash, which it reads.
import type { AuthCheckerFn } from 'type-graphql';
import { AuthError, AuthFailure } from '../auth/auth-error.js';
import type { Viewer } from '../auth/principal.js';
import { Role } from '../db/entities/index.js';
import type { Context } from './context.js';
import { forbidden, fromAuthError } from './errors.js';

export enum AccessRule {
  /** The parent object is the viewer's own user record, or the viewer is an ADMIN. */
  SELF_OR_ADMIN = 'SELF_OR_ADMIN',
  /** The access token came from signup, login or reauthenticate, not from a refresh. */
  FRESH = 'FRESH',
  /**
   * The session proved a second factor (aal 2). Otherwise MFA_REQUIRED with a challenge for this
   * session (completeMfaLogin), or MFA_ENROLLMENT_REQUIRED for a user without two-factor.
   */
  MFA = 'MFA',
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

/**
 * ADMIN_REQUIRE_MFA: a field only ADMINs may use (a query reads other users' data, a mutation
 * changes it) needs aal 2 as if it said AccessRule.MFA.
 */
function needsSecondFactor(
  requirements: readonly Requirement[],
  requiredRoles: readonly Role[],
  context: Context,
): boolean {
  if (requirements.includes(AccessRule.MFA)) return true;
  return (
    requiredRoles.length > 0 && requiredRoles.every((role) => role === Role.ADMIN) && context.config.mfa.adminRequireMfa
  );
}

async function refuseWithoutSecondFactor(context: Context, viewer: Viewer): Promise<never> {
  if (!viewer.user.twoFactorEnabled) {
    throw fromAuthError(
      new AuthError(
        AuthFailure.MFA_ENROLLMENT_REQUIRED,
        'This action needs two-factor authentication: turn it on first (startTotpEnrollment)',
      ),
    );
  }
  const ref = { userId: viewer.user.id, sessionId: viewer.sessionId };
  throw fromAuthError(await context.services.challenges.sessionChallenge(context.em, ref, viewer.fresh));
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
  // Before FRESH: a two-factor account's reauthenticate (password and code) answers both.
  if (needsSecondFactor(requirements, requiredRoles, context) && viewer.level.aal !== 2) {
    return refuseWithoutSecondFactor(context, viewer);
  }
  if (requirements.includes(AccessRule.FRESH) && !viewer.fresh) {
    throw fromAuthError(
      new AuthError(AuthFailure.FRESH_TOKEN_REQUIRED, 'This action needs a fresh token: log in or reauthenticate'),
    );
  }
  return true;
};
