// An authenticator app for the browser tests: the codes a phone would show for the key read off
// the page, from otplib (independent of Tessera). Tessera takes each time step's code once and
// accepts one step of drift either way, so each code handed out is of a later step than the last.
import { generateSync } from 'otplib';
import { sleep } from '../../helpers/session-helpers.js';

const STEP_SECONDS = 30;
/** Nearer than this to a step's end, the previous step may be gone by the time the code arrives. */
const MARGIN_SECONDS = 5;

export class AuthenticatorApp {
  private lastStep = -Infinity;

  constructor(private readonly secret: string) {}

  /** A code Tessera accepts now and has not seen: waits for the clock only when no step is left. */
  async nextCode(): Promise<string> {
    for (;;) {
      const now = Date.now() / 1000;
      const current = Math.floor(now / STEP_SECONDS);
      const earliest = now % STEP_SECONDS > STEP_SECONDS - MARGIN_SECONDS ? current : current - 1;
      const step = Math.max(this.lastStep + 1, earliest);
      if (step <= current + 1) {
        this.lastStep = step;
        return generateSync({ secret: this.secret, epoch: step * STEP_SECONDS });
      }
      await sleep(((current + 1) * STEP_SECONDS - now) * 1000 + 200);
    }
  }

  /** Six digits that are none of the codes Tessera would accept now. */
  wrongCode(): string {
    const now = Math.floor(Date.now() / 1000);
    const accepted = [-2, -1, 0, 1, 2].map((offset) =>
      generateSync({ secret: this.secret, epoch: now + offset * STEP_SECONDS }),
    );
    let candidate = 0;
    while (accepted.includes(String(candidate).padStart(6, '0'))) candidate += 1;
    return String(candidate).padStart(6, '0');
  }
}
