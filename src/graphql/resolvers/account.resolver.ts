import { Arg, Authorized, Ctx, Mutation, Resolver } from 'type-graphql';
import { AccessRule } from '../auth-checker.js';
import type { Context } from '../context.js';
import { FastAuthorized } from '../fast-path/index.js';
import { toAuthPayload } from './auth.resolver.js';
import { AuthPayloadType } from './types/auth-payload.type.js';
import { viewerRef } from './viewer.js';

/** What signed-in users do to their own account. */
@Resolver()
export class AccountResolver {
  @Authorized()
  @Mutation(() => AuthPayloadType, { description: 'Proves the password again: fresh tokens for the same session.' })
  async reauthenticate(@Arg('password') password: string, @Ctx() context: Context): Promise<AuthPayloadType> {
    return toAuthPayload(
      await context.services.accounts.reauthenticate(context.em, viewerRef(context), password, context.meta),
      context,
    );
  }

  @Authorized()
  @Mutation(() => AuthPayloadType, {
    description: 'Ends every other session of the user and returns fresh tokens for this one.',
  })
  async changePassword(
    @Arg('currentPassword') currentPassword: string,
    @Arg('newPassword') newPassword: string,
    @Ctx() context: Context,
  ): Promise<AuthPayloadType> {
    const tokens = await context.services.accounts.changePassword(
      context.em,
      viewerRef(context),
      currentPassword,
      newPassword,
      context.meta,
    );
    return toAuthPayload(tokens, context);
  }

  @Authorized(AccessRule.FRESH)
  @FastAuthorized()
  @Mutation(() => Boolean, { description: 'Deletes the account, its sessions and its data. Needs a fresh token.' })
  async deleteMyAccount(@Ctx() context: Context): Promise<boolean> {
    await context.services.accounts.deleteAccount(context.em, viewerRef(context), context.meta);
    context.cookies.clear();
    return true;
  }
}
