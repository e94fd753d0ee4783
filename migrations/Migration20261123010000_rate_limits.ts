import { Migration } from '@mikro-orm/migrations';

/** Attempt counters for throttling, in rate-limiter-flexible's PostgreSQL layout. */
export class Migration20261123010000_rate_limits extends Migration {
  override name = 'Migration20261123010000_rate_limits';

  override up(): void {
    this.addSql(
      `create table "rate_limits" ("key" varchar(255) not null, "points" int not null default 0, "expire" bigint null, primary key ("key"));`,
    );
  }

  override down(): void {
    this.addSql(`drop table if exists "rate_limits";`);
  }
}
