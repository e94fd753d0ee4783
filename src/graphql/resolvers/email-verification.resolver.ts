import { Arg, Authorized, Ctx, Mutation, Resolver } from 'type-graphql';
import type { Context } from '../context.js';
import { Public } from '../public.js';
import { viewerRef } from './viewer.js';

/** Proving the account's address by a mailed link. */
@Resolver()
export class EmailVerificationResolver {
  @Authorized()
  @Mutation(() => Boolean, {
    description:
      "Mails a link to the viewer's current address, to open the front-end's verify-email page. True at once, without a mail, when the address is verified already. RATE_LIMITED past a few per hour.",
  })
  async requestEmailVerification(@Ctx() context: Context): Promise<boolean> {
    return context.services.emailVerification.request(context.em, viewerRef(context), context.meta);
  }

  @Public()
  @Mutation(() => Boolean, {
    description:
      "Redeems the token of a verification link: the address it was sent to is verified, if it is still the account's; a register link makes its account (ACCOUNT_EXISTS on username or email when an account took either first). Refused tokens: TOKEN_INVALID (unknown, used, superseded, disabled account) or TOKEN_EXPIRED. Counted per client IP like login.",
  })
  async verifyEmail(@Arg('token') token: string, @Ctx() context: Context): Promise<boolean> {
    return context.services.emailVerification.verify(context.em, token, context.meta);
  }
}
