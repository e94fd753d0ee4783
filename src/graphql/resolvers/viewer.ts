import type { Viewer } from '../../auth/principal.js';
import type { ViewerRef } from '../../auth/request-meta.js';
import { AuthError, AuthFailure } from '../../auth/auth-error.js';
import type { Context } from '../context.js';
import { fromAuthError } from '../errors.js';

/** The viewer of a field guarded by @Authorized, which has already refused anyone else. */
export function viewerOf(context: Context): Viewer {
  const viewer = context.auth.viewer;
  if (!viewer) throw new Error('viewerOf called on a field without @Authorized');
  return viewer;
}

/**
 * The viewer of a @Public field that answers more to a signed-in caller: null when no token was
 * sent. A token that was sent but refused (expired, forged, revoked) fails the field with the
 * error a guarded field would give, so a stale session is never mistaken for a visitor.
 */
export function optionalViewerOf(context: Context): Viewer | null {
  const { viewer, failure } = context.auth;
  if (viewer) return viewer;
  if (failure instanceof AuthError) {
    if (failure.reason === AuthFailure.TOKEN_MISSING) return null;
    throw fromAuthError(failure);
  }
  throw failure;
}

export function viewerRef(context: Context): ViewerRef {
  const viewer = viewerOf(context);
  return { userId: viewer.user.id, sessionId: viewer.sessionId };
}
