// Authenticator codes as an app would show them, from otplib (an implementation independent of
// Tessera's), for the secret the API handed out.
import { generateSync } from 'otplib';
import { sleep } from './session-helpers.js';

export const STEP_SECONDS = 30;

/** The code of the step `stepOffset` steps from now (-1: the previous step, 1: the next). */
export function totpCode(secret: string, stepOffset = 0): string {
  return generateSync({ secret, epoch: Math.floor(Date.now() / 1000) + stepOffset * STEP_SECONDS });
}

/**
 * Waits, when the current step ends within `marginSeconds`, for the next one to begin: a test
 * that sends codes of neighbouring steps must not see the step change under it.
 */
export async function withinOneStep(marginSeconds = 12): Promise<void> {
  const intoStep = (Date.now() / 1000) % STEP_SECONDS;
  if (STEP_SECONDS - intoStep < marginSeconds) await sleep((STEP_SECONDS - intoStep) * 1000 + 200);
}
