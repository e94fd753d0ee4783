import type { EntityManager } from '@mikro-orm/postgresql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Arg, Authorized, Ctx, ID, Int, Query, Resolver } from 'type-graphql';
import type { AdditionalClaims } from '../../auth/additional-claims.js';
import { toUserView } from '../../auth/user-view.js';
import { Role, User } from '../../db/entities/index.js';
import { AnsweredFromViewer, FastAuthorized } from '../fast-path/index.js';
import type { Context } from '../context.js';
import { ErrorCode, PublicError } from '../errors.js';
import { Public } from '../public.js';
import { isUuid } from '../../auth/ids.js';
import { UserType } from './types/user.type.js';
import { optionalViewerOf, viewerOf } from './viewer.js';

const MAX_PAGE = 100;

@Resolver(() => UserType)
export class UserResolver {
  @Authorized()
  @FastAuthorized()
  @AnsweredFromViewer()
  @Query(() => UserType, { description: 'The signed-in user.' })
  me(@Ctx() context: Context): UserType {
    return viewerOf(context).user;
  }

  @Public()
  @Query(() => UserType, {
    nullable: true,
    description:
      'The signed-in user, or null when no token was sent: "am I signed in?" without an error. A token that was sent but is expired, invalid or revoked still fails with UNAUTHENTICATED.',
  })
  viewer(@Ctx() context: Context): UserType | null {
    return optionalViewerOf(context)?.user ?? null;
  }

  @Public()
  @Query(() => GraphQLJSONObject, {
    nullable: true,
    description:
      "The application's own claims in the access token sent, as signed (the additional claims loader); {} when it adds none, null when no token was sent. Refuses a bad token like `viewer`.",
  })
  viewerClaims(@Ctx() context: Context): AdditionalClaims | null {
    return optionalViewerOf(context)?.claims ?? null;
  }

  @Authorized()
  @Query(() => UserType, { nullable: true, description: 'Any user by id; null when there is none.' })
  async user(@Arg('id', () => ID) id: string, @Ctx() context: Context): Promise<UserType | null> {
    if (!isUuid(id)) return null;
    const user = await context.em.findOne(User, { id });
    return user ? toUserView(user) : null;
  }

  @Authorized(Role.ADMIN)
  @Query(() => [UserType], {
    description:
      'All users, oldest first (creation time, then id). ADMIN only. Page with `after` (the last id of the previous page: no user is skipped or repeated when others are added or removed meanwhile) or with `offset`, not both.',
  })
  async users(
    @Arg('limit', () => Int, { defaultValue: 50 }) limit: number,
    @Arg('offset', () => Int, { defaultValue: 0 }) offset: number,
    @Arg('after', () => ID, { nullable: true, description: 'The id of the user the page starts after.' })
    after: string | null | undefined,
    @Ctx() context: Context,
  ): Promise<UserType[]> {
    if (limit < 1 || limit > MAX_PAGE)
      throw new PublicError(ErrorCode.BAD_USER_INPUT, `limit must be from 1 to ${MAX_PAGE}`, { field: 'limit' });
    if (offset < 0) throw new PublicError(ErrorCode.BAD_USER_INPUT, 'offset must not be negative', { field: 'offset' });
    if (after == null) {
      const users = await context.em.find(User, {}, { orderBy: { createdAt: 'asc', id: 'asc' }, limit, offset });
      return users.map(toUserView);
    }
    if (offset !== 0)
      throw new PublicError(ErrorCode.BAD_USER_INPUT, 'after and offset cannot be combined', { field: 'offset' });
    return (await usersAfter(context.em, after, limit)).map(toUserView);
  }
}

/**
 * The page after the user `after`, read in order through users_created_at_id_index. The cursor's
 * creation time is compared in SQL: a JavaScript Date would drop its microseconds.
 */
async function usersAfter(em: EntityManager, after: string, limit: number): Promise<User[]> {
  const cursor = isUuid(after) ? await em.findOne(User, { id: after }, { fields: ['id'] }) : null;
  if (!cursor) throw new PublicError(ErrorCode.BAD_USER_INPUT, 'after names no user', { field: 'after' });
  return em
    .createQueryBuilder(User, 'u')
    .select('*')
    .where('(u.created_at, u.id) > (select c.created_at, c.id from users c where c.id = ?)', [cursor.id])
    .orderBy({ createdAt: 'asc', id: 'asc' })
    .limit(limit)
    .getResult();
}
