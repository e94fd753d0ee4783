import { Arg, Authorized, Ctx, Mutation, Resolver } from 'type-graphql';
import type { Context } from '../context.js';
import { Public } from '../public.js';
import { viewerRef } from './viewer.js';

/** Moving the account to another email address, through a link mailed to that address. */
@Resolver()
export class EmailChangeResolver {
  @Authorized()
  @Mutation(() => Boolean, {
    description:
      'Mails a link to newEmail that moves the account there (confirmEmailChange). Needs the password. True whether or not newEmail belongs to another account (its owner is told instead).',
  })
  async requestEmailChange(
    @Arg('newEmail') newEmail: string,
    @Arg('password') password: string,
    @Ctx() context: Context,
  ): Promise<boolean> {
    await context.services.emailChange.request(context.em, viewerRef(context), newEmail, password, context.meta);
    return true;
  }

  @Public()
  @Mutation(() => Boolean, {
    description:
      "Redeems the token from requestEmailChange's mail: the account's email becomes the new address, verified. The old address gets a notice.",
  })
  async confirmEmailChange(@Arg('token') token: string, @Ctx() context: Context): Promise<boolean> {
    await context.services.emailChange.confirm(context.em, token, context.meta);
    return true;
  }
}
