// What a refused account operation must leave as it found: the accounts, their mailed tokens, the
// pending registrations and the mail queued. Compared before and after, a refusal that wrote anything shows in the diff.
import type { TestServer } from './test-server.js';

export interface AccountState {
  users: unknown[];
  tokens: unknown[];
  registrations: unknown[];
  mails: unknown[];
}

export async function accountState(app: Pick<TestServer, 'orm'>): Promise<AccountState> {
  const em = app.orm.em.fork();
  const [users, tokens, registrations, mails] = await Promise.all([
    em.execute(
      'select id, username, username_key, email, email_key, password_hash, email_verified_at, is_active, updated_at from users order by id',
    ),
    em.execute('select id, user_id, purpose, token_hash, email, expires_at from one_time_tokens order by id'),
    em.execute('select id, username_key, email_key, token_hash, expires_at from registrations order by id'),
    em.execute('select id, kind, recipient from mail_outbox order by id'),
  ]);
  return { users, tokens, registrations, mails };
}
