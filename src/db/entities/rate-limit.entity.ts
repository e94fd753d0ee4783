import { BigIntType, types } from '@mikro-orm/core';
import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

/**
 * The attempt counters (src/auth/counters.ts), read and written in SQL: several at once inside a
 * login's statements, which the ORM's unit of work cannot do. Declared here so that migrations and the schema check
 * know the table; the application never loads it through the ORM.
 */
@Entity({ tableName: 'rate_limits' })
// For the purge of ended windows (throttle.ts).
@Index({ name: 'rate_limits_expire_index', properties: ['expire'] })
export class RateLimit {
  @PrimaryKey({ type: types.string, length: 255 })
  key!: string;

  @Property({ type: types.integer, default: 0 })
  points!: number;

  /** Epoch milliseconds; null never expires. */
  @Property({ type: new BigIntType('number'), nullable: true })
  expire!: number | null;
}
