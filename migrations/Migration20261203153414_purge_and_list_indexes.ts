import { Migration } from '@mikro-orm/migrations';

/**
 * An index for each purge condition (revoked sessions, ended counter windows) and for the users
 * list's order and cursor. `if not exists`: on a large database an operator may build them first
 * with `create index concurrently`, which cannot run inside a migration's transaction.
 */
export class Migration20261203153414_purge_and_list_indexes extends Migration {
  override name = 'Migration20261203153414_purge_and_list_indexes';

  override up(): void {
    this.addSql(`create index if not exists "rate_limits_expire_index" on "rate_limits" ("expire");`);

    this.addSql(`create index if not exists "users_created_at_id_index" on "users" ("created_at", "id");`);

    this.addSql(
      `create index if not exists "sessions_revoked_at_index" on "sessions" ("revoked_at") where "revoked_at" is not null;`,
    );
  }

  override down(): void {
    this.addSql(`drop index "rate_limits_expire_index";`);

    this.addSql(`drop index "sessions_revoked_at_index";`);

    this.addSql(`drop index "users_created_at_id_index";`);
  }
}
