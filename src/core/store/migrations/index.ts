/**
 * Versioned, additive migrations. Never edit a shipped migration: add the
 * next one. `user_version` holds the schema version.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'base tables',
    sql: `
      CREATE TABLE experiments (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        config_json TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL
      );
      CREATE TABLE datasets (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('imported', 'derived')),
        info_json TEXT NOT NULL,
        spec_json TEXT NOT NULL DEFAULT '{}',
        stats_json TEXT NOT NULL DEFAULT '{}',
        parent_id TEXT,
        created_at TEXT NOT NULL
      );
      CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        experiment_id TEXT REFERENCES experiments(id) ON DELETE SET NULL,
        model TEXT NOT NULL,
        dataset_id TEXT NOT NULL,
        config_json TEXT NOT NULL,
        status TEXT NOT NULL,
        backend TEXT,
        seed INTEGER NOT NULL,
        step INTEGER NOT NULL DEFAULT 0,
        total_steps INTEGER NOT NULL,
        error TEXT,
        created_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT
      );
      CREATE TABLE scalars (
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        step INTEGER NOT NULL,
        value REAL NOT NULL,
        PRIMARY KEY (run_id, key, step)
      ) WITHOUT ROWID;
      CREATE TABLE evaluations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT REFERENCES runs(id) ON DELETE CASCADE,
        metric TEXT NOT NULL,
        scores_json TEXT NOT NULL,
        provenance_json TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE TABLE artifacts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        owner_kind TEXT NOT NULL,
        owner_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        path TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'tags, notes and lookup indices',
    sql: `
      CREATE TABLE tags (
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        tag TEXT NOT NULL,
        PRIMARY KEY (run_id, tag)
      ) WITHOUT ROWID;
      CREATE TABLE notes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        text TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE INDEX runs_status ON runs(status);
      CREATE INDEX runs_experiment ON runs(experiment_id);
      CREATE INDEX evaluations_run ON evaluations(run_id, metric);
      CREATE INDEX artifacts_owner ON artifacts(owner_kind, owner_id);
    `,
  },
  {
    version: 3,
    name: 'run ownership and control requests across processes',
    sql: `
      ALTER TABLE runs ADD COLUMN owner_pid INTEGER;
      ALTER TABLE runs ADD COLUMN control TEXT;
    `,
  },
  {
    version: 4,
    name: 'run ownership as a lease (owner id, lease expiry, heartbeat)',
    sql: `
      ALTER TABLE runs ADD COLUMN owner_id TEXT;
      ALTER TABLE runs ADD COLUMN lease_until INTEGER;
      ALTER TABLE runs ADD COLUMN heartbeat_at INTEGER;
      CREATE INDEX runs_owner ON runs(owner_id);
    `,
  },
  {
    version: 5,
    name: 'indices for listing, filtering and sorting runs at scale',
    sql: `
      CREATE INDEX runs_created ON runs(created_at, id);
      CREATE INDEX runs_started ON runs(COALESCE(started_at, created_at), id);
      CREATE INDEX runs_model ON runs(model, created_at);
      CREATE INDEX runs_dataset ON runs(dataset_id, created_at);
      CREATE INDEX runs_status_created ON runs(status, created_at);
      CREATE INDEX tags_tag ON tags(tag, run_id);
    `,
  },
  {
    version: 6,
    name: 'metric series: periodic scores during training, one row per (run, metric, step)',
    sql: `
      CREATE TABLE metric_series (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        metric TEXT NOT NULL,
        step INTEGER NOT NULL,
        scores_json TEXT NOT NULL,
        provenance_json TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (run_id, metric, step)
      );
    `,
  },
  {
    version: 7,
    name: 'cluster jobs: a study submitted to Slurm as a job array, its submissions and collected cells',
    sql: `
      CREATE TABLE cluster_jobs (
        id TEXT PRIMARY KEY,
        study_id TEXT NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
        job_dir TEXT NOT NULL,
        options_json TEXT NOT NULL,
        cells_json TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE INDEX cluster_jobs_study ON cluster_jobs(study_id, created_at);
      CREATE TABLE cluster_submissions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id TEXT NOT NULL REFERENCES cluster_jobs(id) ON DELETE CASCADE,
        slurm_job_id TEXT NOT NULL,
        indices_json TEXT NOT NULL,
        submitted_at TEXT NOT NULL
      );
      CREATE TABLE cluster_cells (
        job_id TEXT NOT NULL REFERENCES cluster_jobs(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        state TEXT NOT NULL,
        reason TEXT,
        run_id TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (job_id, idx)
      );
    `,
  },
];

export const SCHEMA_VERSION = migrations[migrations.length - 1]!.version;
