import { Migration } from '@mikro-orm/migrations';

/** How a session's tokens travel (BODY or COOKIE), chosen at login and kept for its life. */
export class Migration20261203080000_session_transport extends Migration {
  override name = 'Migration20261203080000_session_transport';

  override up(): void {
    this.addSql(`alter table "sessions" add "transport" varchar(8) not null default 'BODY';`);
  }

  override down(): void {
    this.addSql(`alter table "sessions" drop column "transport";`);
  }
}
