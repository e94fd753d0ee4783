import { Arg, Authorized, Ctx, Mutation, Resolver } from 'type-graphql';
import { AccessRule } from '../auth-checker.js';
import type { Context } from '../context.js';
import { secondFactorProof } from './second-factor-proof.js';
import { TotpEnrollmentType } from './types/totp-enrollment.type.js';
import { viewerRef } from './viewer.js';

/** Enrolling an authenticator app as a second factor, its recovery codes, and removing it. */
@Resolver()
export class TwoFactorResolver {
  @Authorized(AccessRule.FRESH)
  @Mutation(() => TotpEnrollmentType, {
    description:
      'Starts (or restarts) an authenticator-app enrolment: a new secret, pending until confirmTotpEnrollment. Needs a fresh token; refused while two-factor is on.',
  })
  async startTotpEnrollment(@Ctx() context: Context): Promise<TotpEnrollmentType> {
    return context.services.twoFactor.start(context.em, viewerRef(context), context.meta);
  }

  @Authorized()
  @Mutation(() => [String], {
    description:
      'A code from the app confirms the pending enrolment and turns two-factor on. Returns the 10 recovery codes: they are shown only this once.',
  })
  async confirmTotpEnrollment(@Arg('code') code: string, @Ctx() context: Context): Promise<string[]> {
    return context.services.twoFactor.confirm(context.em, viewerRef(context), code, context.meta);
  }

  @Authorized(AccessRule.FRESH)
  @Mutation(() => [String], {
    description:
      'Replaces every recovery code with 10 new ones (the old ones stop working). Needs a fresh token and a current code from the app.',
  })
  async regenerateRecoveryCodes(@Arg('code') code: string, @Ctx() context: Context): Promise<string[]> {
    return context.services.twoFactor.regenerateRecoveryCodes(context.em, viewerRef(context), code, context.meta);
  }

  @Authorized(AccessRule.FRESH)
  @Mutation(() => Boolean, {
    description:
      "Turns two-factor off and ends the user's other sessions. Needs a fresh token and exactly one of a current code or a recovery code.",
  })
  async disableTwoFactor(
    @Arg('code', () => String, { nullable: true }) code: string | null,
    @Arg('recoveryCode', () => String, { nullable: true }) recoveryCode: string | null,
    @Ctx() context: Context,
  ): Promise<boolean> {
    const proof = secondFactorProof(code, recoveryCode);
    await context.services.twoFactor.disable(context.em, viewerRef(context), proof, context.meta);
    return true;
  }
}
