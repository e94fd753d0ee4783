// The owner-or-ADMIN rule for the application's own data, in one place: a user reaches only the
// rows they own, an ADMIN reaches every row, and a row someone may not reach looks exactly like
// one that does not exist.
import type { EntityClass, FilterQuery } from '@mikro-orm/core';
import { isUuid } from '../../auth/ids.js';
import type { Viewer } from '../../auth/principal.js';
import { Role, type User } from '../../db/entities/index.js';
import type { Context } from '../context.js';
import { notFound } from '../errors.js';
import { viewerOf } from './viewer.js';

/** An entity with a UUID primary key and an `owner` relation to the user it belongs to. */
export interface Owned {
  id: string;
  owner: User;
}

/** The `where` filter for the rows the viewer may reach: their own, or every row for an ADMIN. */
export function ownedBy(viewer: Viewer): { owner?: string } {
  return viewer.user.roles.includes(Role.ADMIN) ? {} : { owner: viewer.user.id };
}

/** The row with this id if the viewer may reach it; null when it is not theirs or does not exist. */
export async function findOwned<T extends Owned>(
  context: Context,
  entity: EntityClass<T>,
  id: string,
): Promise<T | null> {
  // Ids are UUIDs: any other string names nothing, and PostgreSQL would refuse it as a uuid.
  if (!isUuid(id)) return null;
  return context.em.findOne(entity, { id, ...ownedBy(viewerOf(context)) } as FilterQuery<T>);
}

/** As findOwned, but a row the viewer may not reach is NOT_FOUND, the same error as a missing one. */
export async function requireOwned<T extends Owned>(context: Context, entity: EntityClass<T>, id: string): Promise<T> {
  const row = await findOwned(context, entity, id);
  if (!row) throw notFound(entity.name);
  return row;
}
