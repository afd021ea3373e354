/**
 * The SQLite store: better-sqlite3 in WAL mode with foreign keys and a busy
 * timeout; migrations applied in order, each in its own transaction.
 */
import Database from 'better-sqlite3';
import { migrations as allMigrations, type Migration } from './migrations/index.js';

export type Db = Database.Database;

export interface OpenOptions {
  /** Apply migrations only up to this version (tests of upgrade paths). */
  upTo?: number;
  migrations?: Migration[];
  readonly?: boolean;
}

export function openDb(file: string, opts: OpenOptions = {}): Db {
  const db = new Database(file, { readonly: opts.readonly ?? false });
  db.pragma('busy_timeout = 5000');
  if (!opts.readonly) db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  if (!opts.readonly) migrate(db, opts.migrations ?? allMigrations, opts.upTo);
  return db;
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

export function migrate(db: Db, migrations: Migration[], upTo = Infinity): number {
  const current = schemaVersion(db);
  const latestKnown = migrations[migrations.length - 1]?.version ?? 0;
  if (current > latestKnown) {
    throw new Error(`the lab's database is at schema version ${current}, newer than this app knows (${latestKnown}); update the app`);
  }
  for (const m of migrations) {
    if (m.version <= current || m.version > upTo) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
  return schemaVersion(db);
}

export const nowIso = (): string => new Date().toISOString();
