// The per-challenge limit: every completion of an `mfa+jwt` challenge is counted on its jti before
// its code is checked, in the shared counters table (counters.ts), so that all instances see one
// count; a success spends the challenge, which then opens nothing more.
import type pg from 'pg';
import { COUNTER_TABLE, type CountRow, countOneSql, NO_FLUSH_CTE, toCount } from '../counters.js';
import { namedSql } from '../named-sql.js';

const CHALLENGE_COUNTER_PREFIX = 'mfa-challenge:';
/** Far above any attempt limit (at most 100), and far below the integer column's end. */
const SPENT = 1_000_000_000;
/** Beyond JWT_LEEWAY's maximum: a count must outlive every moment its token still verifies. */
const KEPT_AFTER_EXPIRY_MS = 600_000;

const COUNT_ATTEMPT = namedSql<{ now: number; key: string; windowEnd: number }>(
  `with ${NO_FLUSH_CTE} ${countOneSql(':key', ':windowEnd')}`,
);
// Conditional, so that two completions racing with two valid proofs cannot both open a session.
const SPEND = namedSql<{ key: string; spent: number }>(
  `update ${COUNTER_TABLE} set points = :spent where key = :key and points < :spent returning key`,
);

/** The challenge as its counter knows it: its jti, and its expiry (epoch seconds), which bounds the count's window. */
export interface CountedChallenge {
  jti: string;
  exp: number;
}

export class ChallengeAttempts {
  constructor(
    private readonly pool: pg.Pool,
    private readonly limit: number,
  ) {}

  /** Counts one attempt; false when the challenge is spent or has had its `limit` attempts. */
  async begin(challenge: CountedChallenge): Promise<boolean> {
    const now = Date.now();
    const { rows } = await this.pool.query<CountRow>({
      name: 'mfa-challenge-count',
      text: COUNT_ATTEMPT.text,
      values: COUNT_ATTEMPT.values({
        now,
        key: keyOf(challenge),
        windowEnd: challenge.exp * 1000 + KEPT_AFTER_EXPIRY_MS,
      }),
    });
    return toCount(rows[0]).points <= this.limit;
  }

  /** Marks the challenge used; false when another completion spent it first. */
  async spend(challenge: CountedChallenge): Promise<boolean> {
    const { rowCount } = await this.pool.query({
      name: 'mfa-challenge-spend',
      text: SPEND.text,
      values: SPEND.values({ key: keyOf(challenge), spent: SPENT }),
    });
    return rowCount === 1;
  }
}

function keyOf(challenge: CountedChallenge): string {
  return CHALLENGE_COUNTER_PREFIX + challenge.jti;
}
