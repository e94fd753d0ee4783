import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import type { Context } from '../context.js';
import { Public } from '../public.js';
import { toAuthPayload } from './auth.resolver.js';
import { secondFactorProof } from './second-factor-proof.js';
import { AuthPayloadType } from './types/auth-payload.type.js';

/** The second step of a two-factor login, reauthentication or step-up. */
@Resolver()
export class MfaLoginResolver {
  @Public()
  @Mutation(() => AuthPayloadType, {
    description:
      "Completes an MFA_REQUIRED challenge (extensions.mfaToken) with exactly one of code (the authenticator app's) or recoveryCode. From login: opens the session (aal 2, fresh). From reauthenticate or a field needing aal 2: fresh tokens for that session, raised to aal 2.",
  })
  async completeMfaLogin(
    @Arg('mfaToken') mfaToken: string,
    @Arg('code', () => String, { nullable: true }) code: string | null | undefined,
    @Arg('recoveryCode', () => String, { nullable: true }) recoveryCode: string | null | undefined,
    @Ctx() context: Context,
  ): Promise<AuthPayloadType> {
    const proof = secondFactorProof(code, recoveryCode);
    const tokens = await context.services.challenges.complete(
      context.em,
      mfaToken,
      proof,
      context.meta,
      context.cookies.originAllowed,
    );
    return toAuthPayload(tokens, context);
  }
}
