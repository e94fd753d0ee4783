import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import type { Context } from '../context.js';
import { Public } from '../public.js';
import { SignupInput } from './types/signup.input.js';

/** The sign-up that tells nobody whether an email has an account. */
@Resolver()
export class RegistrationResolver {
  @Public()
  @Mutation(() => Boolean, {
    description:
      'Mails a verification link; the account is made, verified, when the link is followed (verifyEmail), and there is none before: no session, no login, no username held. True whether or not the email has an account (its owner is told instead). A username taken by an account is ACCOUNT_EXISTS: usernames are public. transport is ignored.',
  })
  async register(@Arg('input', () => SignupInput) input: SignupInput, @Ctx() context: Context): Promise<boolean> {
    await context.services.registration.register(context.em, input, context.meta);
    return true;
  }
}
