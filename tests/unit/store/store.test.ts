import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { migrations, SCHEMA_VERSION } from '../../../src/core/store/migrations/index.js';
import { openDb, schemaVersion } from '../../../src/core/store/db.js';

const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'dlab-store-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const tables = (db: ReturnType<typeof openDb>) =>
  (db.prepare("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);

function seedV1(db: ReturnType<typeof openDb>) {
  db.prepare("INSERT INTO experiments (id, name, created_at) VALUES ('e1', 'first', '2026-01-01')").run();
  db.prepare(
    "INSERT INTO runs (id, experiment_id, model, dataset_id, config_json, status, seed, total_steps, created_at) VALUES ('r1', 'e1', 'beta_vae', 'dsprites', '{\"beta\":4}', 'finished', 3, 100, '2026-01-01')",
  ).run();
  db.prepare("INSERT INTO scalars (run_id, key, step, value) VALUES ('r1', 'loss', 10, 1.5)").run();
}

describe('store', () => {
  it('creates every table from an empty dir, in WAL mode with foreign keys', () => {
    const file = path.join(tmp(), 'lab.sqlite');
    const db = openDb(file);
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
    expect(tables(db)).toEqual(['artifacts', 'cluster_cells', 'cluster_jobs', 'cluster_submissions', 'datasets', 'evaluations', 'experiments', 'metric_series', 'notes', 'runs', 'scalars', 'tags']);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(() => db.prepare("INSERT INTO scalars (run_id, key, step, value) VALUES ('missing', 'x', 0, 0)").run()).toThrow(/FOREIGN KEY/);
    db.close();
  });

  it('migrates from every earlier schema version keeping the data', () => {
    for (const m of migrations.slice(0, -1)) {
      const file = path.join(tmp(), 'lab.sqlite');
      const old = openDb(file, { upTo: m.version });
      expect(schemaVersion(old)).toBe(m.version);
      seedV1(old);
      old.close();
      const db = openDb(file);
      expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
      expect(db.prepare("SELECT model, config_json FROM runs WHERE id='r1'").get()).toEqual({ model: 'beta_vae', config_json: '{"beta":4}' });
      expect(db.prepare("SELECT value FROM scalars WHERE run_id='r1'").get()).toEqual({ value: 1.5 });
      // the tables of later versions work
      db.prepare("INSERT INTO tags (run_id, tag) VALUES ('r1', 'baseline')").run();
      expect(db.prepare('SELECT count(*) AS n FROM tags').get()).toEqual({ n: 1 });
      db.close();
    }
  });

  it('reopening is idempotent and data survives a restart', () => {
    const file = path.join(tmp(), 'lab.sqlite');
    let db = openDb(file);
    seedV1(db);
    const before = tables(db);
    db.close();
    for (let i = 0; i < 3; i++) {
      db = openDb(file);
      expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
      expect(tables(db)).toEqual(before);
      expect(db.prepare('SELECT count(*) AS n FROM runs').get()).toEqual({ n: 1 });
      db.close();
    }
  });

  it('cascades run deletion to its series, tags and notes', () => {
    const db = openDb(path.join(tmp(), 'lab.sqlite'));
    seedV1(db);
    db.prepare("INSERT INTO tags (run_id, tag) VALUES ('r1', 't')").run();
    db.prepare("INSERT INTO notes (run_id, text, created_at) VALUES ('r1', 'hello', 'now')").run();
    db.prepare("DELETE FROM runs WHERE id='r1'").run();
    for (const t of ['scalars', 'tags', 'notes']) expect(db.prepare(`SELECT count(*) AS n FROM ${t}`).get()).toEqual({ n: 0 });
    db.close();
  });

  it('refuses a database from a newer app', () => {
    const file = path.join(tmp(), 'lab.sqlite');
    const db = openDb(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => openDb(file)).toThrow(/newer than this app knows/);
  });
});
