// Owner-or-ADMIN, the rule of a record that belongs to a user, as a filter: a record the viewer
// may not see is then not found, exactly like one that does not exist.
import type { Viewer } from '../../auth/principal.js';
import { Role } from '../../db/entities/index.js';

/** Spread into a `where` on an entity with an `owner`: nothing for an ADMIN, the viewer otherwise. */
export function ownerOrAdmin(viewer: Viewer): { owner?: string } {
  return viewer.user.roles.includes(Role.ADMIN) ? {} : { owner: viewer.user.id };
}
