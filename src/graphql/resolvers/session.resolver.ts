import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import type { Context } from '../context.js';
import { notFound } from '../errors.js';
import { FastAuthorized } from '../fast-path/index.js';
import { isUuid } from '../../auth/ids.js';
import { LogoutScope } from '../../auth/sessions.js';
import { SessionType, toSessionType } from './types/session.type.js';
import { viewerOf, viewerRef } from './viewer.js';

@Resolver(() => SessionType)
export class SessionResolver {
  @Authorized()
  @FastAuthorized()
  @Query(() => [SessionType], { description: "The viewer's live sessions, most recently used first." })
  async mySessions(@Ctx() context: Context): Promise<SessionType[]> {
    const viewer = viewerOf(context);
    const sessions = await context.services.sessions.listLive(context.em, viewer.user.id);
    return sessions.map((session) => toSessionType(session, viewer.sessionId));
  }

  @Authorized()
  @Mutation(() => Boolean, {
    description: 'Ends sessions at once: their access tokens fail with TOKEN_REVOKED on the next request.',
  })
  async logout(
    @Arg('scope', () => LogoutScope, { defaultValue: LogoutScope.CURRENT }) scope: LogoutScope,
    @Ctx() context: Context,
  ): Promise<boolean> {
    await context.services.sessions.logout(context.em, viewerRef(context), scope, context.meta);
    if (scope !== LogoutScope.OTHERS) context.cookies.clear();
    return true;
  }

  @Authorized()
  @Mutation(() => Boolean, { description: "Ends one of the viewer's own sessions; any other id is NOT_FOUND." })
  async revokeSession(@Arg('id', () => ID) id: string, @Ctx() context: Context): Promise<boolean> {
    const { userId } = viewerRef(context);
    if (!isUuid(id) || !(await context.services.sessions.revokeOwn(context.em, userId, id, context.meta)))
      throw notFound('Session');
    return true;
  }
}
