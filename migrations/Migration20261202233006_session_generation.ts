import { Migration } from '@mikro-orm/migrations';

/** A session's generation: a credential change bumps it, refusing the access tokens issued before. */
export class Migration20261202233006_session_generation extends Migration {
  override name = 'Migration20261202233006_session_generation';

  override up(): void {
    this.addSql(`alter table "sessions" add "generation" int not null default 0;`);
  }

  override down(): void {
    this.addSql(`alter table "sessions" drop column "generation";`);
  }
}
