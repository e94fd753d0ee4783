import type { Viewer } from '../../auth/principal.js';
import type { ViewerRef } from '../../auth/request-meta.js';
import type { Context } from '../context.js';

/** The viewer of a field guarded by @Authorized, which has already refused anyone else. */
export function viewerOf(context: Context): Viewer {
  const viewer = context.auth.viewer;
  if (!viewer) throw new Error('viewerOf called on a field without @Authorized');
  return viewer;
}

export function viewerRef(context: Context): ViewerRef {
  const viewer = viewerOf(context);
  return { userId: viewer.user.id, sessionId: viewer.sessionId };
}
