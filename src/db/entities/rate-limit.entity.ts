import { BigIntType, types } from '@mikro-orm/core';
import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

/**
 * The attempt counters of rate-limiter-flexible (src/auth/throttle.ts), which reads and writes
 * this table itself in its own layout. Declared here so that migrations and the schema check
 * know the table; the application never loads it through the ORM.
 */
@Entity({ tableName: 'rate_limits' })
export class RateLimit {
  @PrimaryKey({ type: types.string, length: 255 })
  key!: string;

  @Property({ type: types.integer, default: 0 })
  points!: number;

  /** Epoch milliseconds; null never expires. */
  @Property({ type: new BigIntType('number'), nullable: true })
  expire!: number | null;
}
