/**
 * Seeded, bounded contract fuzz: a few thousand malformed payloads across
 * every request name of the contract, sent through the dispatcher both
 * transports use (src/shared/dispatch.ts) against a real Lab on a temp dir.
 *
 * Asserted: dispatch always resolves to an envelope (never throws, never
 * hangs), no `internal` error code, every failure has a known code and a
 * non-empty message, no prototype pollution, nothing launched a training run,
 * exports/file never hands out a file (the temp lab's exports folder is empty),
 * and the Lab still answers `lab/info` afterwards.
 *
 * The payloads are built so that none can legitimately start long work: the
 * base payloads of expensive requests name ids that do not exist (and unknown
 * models / kinds / presets, and `start: false` for studies), the mutation
 * pools never contain a real id, and a few payloads are skipped outright
 * (`tooHeavy`). The training worker is a stub that exits at once, in case.
 *
 * Reproduce / widen: DLAB_FUZZ_SEED=<n> DLAB_FUZZ_COUNT=<n> DLAB_FUZZ_MS=<ms>.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '../../src/core/lab.js';
import { ErrorCode, LabErrorShape, parseInput, requestNames, type Reply, type RequestName } from '../../src/shared/contract.js';
import { dispatch } from '../../src/shared/dispatch.js';
import { tmpDir } from '../helpers/tmp.js';

const SEED = Number(process.env.DLAB_FUZZ_SEED ?? 0x5eed2024) >>> 0;
const MAX_PAYLOADS = Number(process.env.DLAB_FUZZ_COUNT ?? 5000);
/** Wall-clock budget of the fuzz loop (the slow shared CI machine sets the default). */
const BUDGET_MS = Number(process.env.DLAB_FUZZ_MS ?? 35_000);
/** A single request answering later than this counts as a hang. */
const CALL_TIMEOUT_MS = 20_000;

// ------------------------------------------------------------------ PRNG

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
type Rng = () => number;
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;

// ------------------------------------------------------------------ value pools

const MISSING_DS = 'fuzz-missing-dataset';
const MISSING_RUN = 'run-fuzz-missing';
const MISSING_STUDY = 'study-fuzz-missing';
const HUGE = 'A'.repeat(100_000);
const HUGE_UNICODE = '\u{1D518}'.repeat(30_000);

function deepObject(depth: number): unknown {
  let o: unknown = { leaf: 1 };
  for (let i = 0; i < depth; i++) o = { a: o };
  return o;
}
function deepArray(depth: number): unknown {
  let o: unknown = [1];
  for (let i = 0; i < depth; i++) o = [o];
  return o;
}
function ownKey(target: Record<string, unknown>, key: string, value: unknown): void {
  // an own property even for '__proto__' (what JSON.parse produces)
  Object.defineProperty(target, key, { value, enumerable: true, configurable: true, writable: true });
}
const sparse = (): unknown[] => {
  const a: unknown[] = [];
  a[5] = 1;
  return a;
};
const nullProto = (): unknown => {
  const o = Object.create(null) as Record<string, unknown>;
  o.id = 'x';
  return o;
};

/** Strings for id, name, path and kind fields: traversal, separators, unicode, lengths, special keys. None is a real id. */
const WEIRD_STRINGS: readonly string[] = [
  '', '.', '..', '...', '../x', '../../etc/passwd', '..\\x', 'a/b', 'a\\b', '/', '/etc/passwd', 'C:\\Windows\\win.ini',
  '\\\\server\\share', '%2e%2e', '%2e%2e%2fx', 'x\0y', '\0', ' ', '\t\n', 'CON', 'NUL', 'aux.txt', 'é', 'Ωmega', '数据集',
  '🙂', '\u202e', '\uFEFF', '\ud800', 'a'.repeat(129), 'a'.repeat(4097), 'x'.repeat(10_000), HUGE, HUGE_UNICODE,
  'constructor', '__proto__', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'then',
  'NaN', 'Infinity', '-Infinity', '-1', '1e309', '0x10', '-0', 'true', 'null', 'undefined',
  '<script>alert(1)</script>', "'; DROP TABLE runs; --", '${process.exit()}', '%s%n%x', 'run-', 'draft-', 'draft-zzzzzzzzzz',
  'draft-0000000000', `up-${'0'.repeat(32)}`, 'up-xyz', ':', '-', '_', 'a:b', 'A'.repeat(128), 'job-', 'study-',
];
const WEIRD_NUMBERS: readonly number[] = [
  -1, -0, 0, 0.5, 1.5, -(2 ** 31) - 1, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, 1e308, -1e308, Number.MAX_VALUE,
  Number.MIN_VALUE, Number.EPSILON, NaN, Infinity, -Infinity, 1e-320, -123456789,
];
const EXTRA_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype', 'toString', 'then', 'extra', '', ' ', 'ID', 'id ', '0', 'hasOwnProperty'];

/** Values of the wrong type for any field (and any top level). */
function junkValue(rng: Rng): unknown {
  const makers: (() => unknown)[] = [
    () => null,
    () => undefined,
    () => true,
    () => false,
    () => pick(rng, WEIRD_NUMBERS),
    () => BigInt(7),
    () => pick(rng, WEIRD_STRINGS),
    () => [],
    () => ({}),
    () => [null],
    () => [pick(rng, WEIRD_STRINGS)],
    () => ({ a: 1 }),
    () => deepObject(50 + Math.floor(rng() * 200)),
    () => deepArray(50 + Math.floor(rng() * 200)),
    () => new Date(0),
    () => new Map([['id', 'x']]),
    () => new Set([1]),
    () => new Uint8Array(4),
    () => sparse(),
    () => nullProto(),
    () => JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}'),
    () => Array.from({ length: 300 }, () => pick(rng, WEIRD_NUMBERS)),
  ];
  return pick(rng, makers)();
}

/** A malformed top-level payload. */
function topLevelJunk(rng: Rng, base: unknown): unknown {
  const makers: (() => unknown)[] = [
    () => junkValue(rng),
    () => deepObject(1000 + Math.floor(rng() * 4000)),
    () => deepArray(1000 + Math.floor(rng() * 4000)),
    () => HUGE,
    () => pick(rng, ['NaN', 'Infinity', '-Infinity', '1e309', '{}', '[]', '__proto__', 'null', '']),
    () => [base],
    () => ({ payload: base }),
    () => ({ input: base }),
    () => JSON.stringify(base),
    () => JSON.parse(`{"__proto__":{"polluted":true},"payload":${JSON.stringify(base)}}`),
    () => (base && typeof base === 'object' ? JSON.parse(`{"__proto__":{"polluted":true},${JSON.stringify(base).slice(1)}`.replace(/,}$/, '}')) : base),
    () => Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`k${i}`, i])),
  ];
  return pick(rng, makers)();
}

// ------------------------------------------------------------------ mutations of a valid-shaped payload

type Path = (string | number)[];
const isPlain = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype;
function paths(v: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (at.length > 12) return out; // not into the deep junk a first mutation may have put there
  if (Array.isArray(v)) {
    if (v.length <= 300) v.forEach((x, i) => paths(x, [...at, i], out));
  } else if (isPlain(v)) for (const k of Object.keys(v)) paths(v[k], [...at, k], out);
  return out;
}
function getAt(root: unknown, p: Path): unknown {
  let v = root;
  for (const k of p) v = (v as Record<string | number, unknown>)[k];
  return v;
}

/** Mutate one node of `root` in place (the root itself: add an unknown key). */
function mutate(rng: Rng, root: Record<string, unknown>): void {
  const all = paths(root);
  const p = pick(rng, all);
  const parent = p.length ? (getAt(root, p.slice(0, -1)) as Record<string | number, unknown>) : null;
  const key = p[p.length - 1]!;
  const value = p.length ? getAt(root, p) : root;
  const op = rng();
  const set = (v: unknown) => {
    if (parent) parent[key] = v;
  };
  const addKey = () => {
    const containers = all.map((q) => getAt(root, q)).filter(isPlain);
    ownKey(pick(rng, containers), pick(rng, EXTRA_KEYS), junkValue(rng));
  };
  if (!parent || op < 0.15) return addKey();
  if (op < 0.5) return set(junkValue(rng));
  if (op < 0.7) return set(pick(rng, WEIRD_STRINGS));
  if (op < 0.82) return set(pick(rng, WEIRD_NUMBERS));
  if (op < 0.92) {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
    return;
  }
  if (Array.isArray(value)) {
    const r = rng();
    if (r < 0.25) value.length = 0;
    else if (r < 0.5) set(Array.from({ length: 300 }, () => structuredClone(value[0] ?? null)));
    else if (r < 0.75) set(Array.from({ length: 20_001 }, (_, i) => i));
    else value[value.length + 3] = value[0] ?? null; // sparse
  } else set([value]);
}

// ------------------------------------------------------------------ base payloads (valid-shaped; the expensive ones unable to do real work)

const runConfig = {
  model: 'no-such-model',
  params: { beta: 4 },
  datasetId: MISSING_DS,
  arch: 'conv',
  latent: 10,
  steps: 10,
  batch: 8,
  lr: 0.001,
  progressEvery: 5,
  checkpointEvery: 10,
  codesSamples: 0,
  evaluate: ['mig'],
  evaluateSettings: { mig: { num_train: 10 } },
  backend: 'cpu',
};
const studySpec = {
  name: 'Fuzz',
  description: 'd',
  preset: { id: 'p', scale: 's' },
  methods: [{ id: 'm1', model: 'no-such-model', label: 'M', params: { beta: 4 }, paramsByDataset: { [MISSING_DS]: { beta: 2 } }, grid: { beta: [1, 2] } }],
  datasets: [{ base: MISSING_DS, label: 'D', latent: 10, variants: [{ role: 'original' }, { role: 'noise', kind: 'uniform-noise', params: { epsilon: 0.1 }, seed: 1 }] }],
  seeds: [0],
  training: { arch: 'conv', latent: 10, steps: 10, batch: 8, lr: 0.001, progressEvery: 5, checkpointEvery: 10, codesSamples: 0 },
  evaluation: { metrics: ['mig'], settings: { mig: { num_train: 10 } }, seed: 1 },
  primaryMetric: 'mig',
  notes: ['n'],
};
const axes = { title: 'T', xLabel: 'x', yLabel: 'y' };

const BASES: Partial<Record<RequestName, readonly unknown[]>> = {
  'lab/info': [{}],
  'datasets/list': [{}],
  'datasets/get': [{ id: 'dsprites' }, { id: MISSING_DS }],
  'datasets/samples': [{ id: 'dsprites', count: 2, seed: 1 }, { id: 'dsprites', indices: [0, 5] }],
  'datasets/traverse': [{ id: 'dsprites', index: 5, factor: 1, steps: 3 }, { id: 'dsprites', factors: [0, 0, 0, 0, 0], factor: 2, steps: 2 }],
  'models/list': [{}],
  'runs/launch': [{ config: runConfig, seeds: [1] }],
  'runs/list': [{}, { text: 'beta=4 x', status: ['finished'], tags: ['t'], study: null, sort: 'score', sortMetric: 'mig', offset: 10, limit: 5 }],
  'runs/compare': [{}, { metric: 'mig', finishedOnly: false, exclude: [MISSING_RUN], expand: ['a|b|original'], scatterParam: 'beta', filter: { model: ['pcl'] } }],
  'runs/get': [{ id: MISSING_RUN }],
  'runs/cancel': [{ id: MISSING_RUN }],
  'runs/pause': [{ id: MISSING_RUN }],
  'runs/resume': [{ id: MISSING_RUN }],
  'runs/scalars': [{ id: MISSING_RUN, keys: ['loss'], sinceStep: 0 }],
  'runs/tag': [{ id: MISSING_RUN, tag: 't', remove: false }],
  'runs/note': [{ id: MISSING_RUN, text: 'n' }],
  'runs/reconstructions': [{ id: MISSING_RUN, count: 2, seed: 0 }],
  'runs/traversals': [{ id: MISSING_RUN, index: 0, range: 2, steps: 3 }],
  'runs/latents': [{ id: MISSING_RUN, limit: 10 }],
  'metrics/list': [{}],
  'runs/evaluate': [{ id: MISSING_RUN, metrics: ['no-such-metric'], settings: { mig: { num_train: 10 } }, seed: 1 }],
  'runs/evaluations': [{ id: MISSING_RUN }],
  'runs/evaluations/batch': [{ ids: [MISSING_RUN], latestOnly: true }],
  'jobs/list': [{}],
  'jobs/get': [{ id: 'job-missing' }],
  'jobs/cancel': [{ id: 'job-missing' }],
  'perturbations/list': [{}],
  'perturbations/preview': [
    { baseId: 'dsprites', kind: 'uniform-noise', params: { epsilon: 0.1 }, seed: 1, count: 2, sampleSeed: 1, statsSamples: 8 },
    { baseId: 'dsprites', kind: 'compose', params: {}, blocks: [{ kind: 'pattern', params: { epsilon: 0.1 } }], indices: [0], statsSamples: 8 },
    { baseId: 'dsprites', kind: 'manipulation', draftId: 'draft-0000000000', count: 1, statsSamples: 8 },
    { baseId: MISSING_DS, kind: 'uniform-noise', params: { epsilon: 0.1 }, count: 1, statsSamples: 8 },
  ],
  'perturbations/train': [{ baseId: MISSING_DS, kind: 'no-such-kind', params: { epsilon: 0.1 }, seed: 1 }],
  'perturbations/save': [
    { name: 'Fuzz', baseId: MISSING_DS, kind: 'no-such-kind', params: { epsilon: 0.1 }, seed: 1, statsSamples: 8 },
    { name: 'Fuzz', draftId: 'draft-0000000000' },
  ],
  'perturbations/discard': [{ draftId: 'draft-0000000000' }],
  'datasets/analyze': [
    { id: MISSING_DS, samples: 10, seed: 1 },
    { id: MISSING_DS, perturbation: { kind: 'uniform-noise', params: { epsilon: 0.1 }, seed: 1 } },
    { id: MISSING_DS, compareTo: 'dsprites' },
    { id: MISSING_DS, draftId: 'draft-0000000000' },
  ],
  'datasets/import': [{ path: '/nonexistent-dlab-fuzz/file.npz', kind: 'dsprites', name: 'Fuzz' }, { uploadId: `up-${'0'.repeat(32)}` }],
  'datasets/delete': [{ id: MISSING_DS }],
  'dialog/openFile': [{ title: 'Open' }],
  'app/prefs/get': [{}],
  'app/prefs/set': [{ defaultBackend: 'cpu', theme: 'light', figures: { format: 'svg', dpi: 300 }, guide: { dismissed: false, done: ['datasets'] }, nextLabDir: null }],
  'app/compute': [{ recheck: false }],
  'app/menu': [{ screens: [{ id: 'datasets', label: 'Datasets' }] }],
  'studies/presets': [{}],
  'studies/create': [
    { spec: studySpec, start: false },
    { from: { preset: 'no-such-preset', scale: 'quick', name: 'Fuzz', datasets: [MISSING_DS], methods: ['no-such-model'], seeds: 1 }, start: false },
  ],
  'studies/list': [{}],
  'studies/get': [{ id: MISSING_STUDY }],
  'studies/resume': [{ id: MISSING_STUDY, retryFailed: true }],
  'studies/cancel': [{ id: MISSING_STUDY }],
  'studies/results': [{ id: MISSING_STUDY, metric: 'mig', resamples: 100, seed: 1 }],
  'studies/export': [{ id: MISSING_STUDY, formats: ['csv'], metric: 'mig', dpi: 72 }],
  'bundles/export': [{ studyId: MISSING_STUDY, checkpoints: false, codes: false }, { runIds: [MISSING_RUN] }],
  'bundles/import': [{ path: '/nonexistent-dlab-fuzz/b.dlab.zip' }],
  'export/chart': [
    { chart: { kind: 'bar', ...axes, categories: ['a', 'b'], series: [{ name: 's', values: [1, null], errors: [[0, 2], null] }], yMin: 0, yMax: 3 }, format: 'svg', name: 'fuzz' },
    { chart: { kind: 'box', ...axes, groups: [{ label: 'g', values: [1, 2, 3], series: 's', category: 'c' }] }, format: 'csv' },
    { chart: { kind: 'line', ...axes, series: [{ name: 's', points: [[0, 1], [1, 2]] }] }, format: 'json' },
    { chart: { kind: 'scatter', ...axes, series: [{ name: 's', points: [[0, 1]], labels: ['p'] }], diagonal: true, xMin: 0, xMax: 1 }, format: 'svg' },
  ],
  'export/table': [
    { title: 'T', columns: ['a', 'b'], rows: [[1, 'x'], [null, 2.5]], format: 'csv', name: 'fuzz' },
    { title: 'T', columns: ['a'], rows: [['x']], format: 'tex' },
  ],
  'exports/file': [{ path: 'missing.csv' }],
};

/** Payloads skipped even though they are probably invalid: the few that could be valid and slow. */
function tooHeavy(name: RequestName, payload: unknown): boolean {
  const p = payload && typeof payload === 'object' ? (payload as Record<string, unknown>) : {};
  if (name === 'app/compute') return p.recheck === true; // loads the GPU package in a child process
  if (name === 'export/chart') return p.format === 'png' || p.format === 'pdf';
  if (name === 'datasets/import' || name === 'bundles/import') return typeof p.path === 'string' && /^\/(dev|proc|sys)\b/.test(p.path);
  return false;
}

// ------------------------------------------------------------------ reporting helpers

/** JSON-ish preview of any payload (BigInt, Map, NaN, cycles, depth and length limits). */
function preview(v: unknown, max = 400): string {
  const seen = new WeakSet<object>();
  const walk = (x: unknown, depth: number): unknown => {
    if (typeof x === 'bigint') return `${x}n`;
    if (typeof x === 'number' && !Number.isFinite(x)) return String(x);
    if (Object.is(x, -0)) return '-0';
    if (x === undefined) return 'undefined';
    if (typeof x === 'string') return x.length > 60 ? `${x.slice(0, 40)}…(${x.length} chars)` : x;
    if (!x || typeof x !== 'object') return x;
    if (seen.has(x)) return '[cycle]';
    seen.add(x);
    if (depth > 6) return '[deep]';
    if (x instanceof Map) return { Map: [...x.entries()].map((e) => walk(e, depth + 1)) };
    if (x instanceof Set) return { Set: [...x].map((e) => walk(e, depth + 1)) };
    if (x instanceof Date) return { Date: x.getTime() };
    if (ArrayBuffer.isView(x)) return { [x.constructor.name]: x.byteLength };
    if (Array.isArray(x)) return x.length > 10 ? [...x.slice(0, 5).map((e) => walk(e, depth + 1)), `…(${x.length} items)`] : Array.from(x, (e) => walk(e, depth + 1));
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(x)) ownKey(out, k, walk((x as Record<string, unknown>)[k], depth + 1));
    return out;
  };
  const s = JSON.stringify(walk(v, 0)) ?? String(v);
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

interface Finding {
  index: number;
  name: string;
  payload: string;
  problem: string;
  stack?: string;
}

// ------------------------------------------------------------------ the test

const tmp = tmpDir('dlab-fuzz-');
let lab: Lab;
const savedXdg = process.env.XDG_CONFIG_HOME;

beforeAll(async () => {
  // app/prefs/set may record a next lab location in the user's config folder: keep it in the temp dir
  process.env.XDG_CONFIG_HOME = path.join(tmp.dir, 'config');
  fs.mkdirSync(process.env.XDG_CONFIG_HOME, { recursive: true });
  // a training worker that exits at once: no fuzz payload may start real training
  const worker = path.join(tmp.dir, 'no-worker.mjs');
  fs.writeFileSync(worker, 'process.exit(3);\n');
  lab = await Lab.open({
    labDir: path.join(tmp.dir, 'lab'),
    backend: { backend: 'cpu', notes: [] },
    adoptQueuedRuns: false,
    worker: { path: worker, execArgv: [] },
  });
});
afterAll(async () => {
  await lab?.close();
  if (savedXdg === undefined) delete process.env.XDG_CONFIG_HOME;
  else process.env.XDG_CONFIG_HOME = savedXdg;
  tmp.cleanup();
});

/** Dispatch with a hang guard; a rejection is reported, not thrown. */
async function send(name: unknown, payload: unknown): Promise<{ reply?: unknown; thrown?: unknown; hung?: boolean }> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<'hang'>((r) => (timer = setTimeout(() => r('hang'), CALL_TIMEOUT_MS)));
  try {
    const r = await Promise.race([dispatch(lab.handlers, name, payload), hang]);
    return r === 'hang' ? { hung: true } : { reply: r };
  } catch (e) {
    return { thrown: e };
  } finally {
    clearTimeout(timer);
  }
}

/** What is wrong with a reply (null: a proper envelope without `internal`). */
function envelopeProblem(reply: unknown): string | null {
  if (!reply || typeof reply !== 'object') return `not an envelope: ${preview(reply)}`;
  const r = reply as Reply<unknown>;
  if (r.ok === true) {
    if (!('result' in r)) return 'ok envelope without result';
    try {
      JSON.stringify(r);
    } catch (e) {
      return `ok envelope not serialisable: ${(e as Error).message}`;
    }
    return null;
  }
  if (r.ok !== false) return `envelope without ok: ${preview(reply)}`;
  const shape = LabErrorShape.safeParse(r.error);
  if (!shape.success) return `malformed error: ${preview(r.error)}`;
  if (!ErrorCode.options.includes(r.error.code)) return `unknown code ${r.error.code}`;
  if (!r.error.message.trim()) return `empty message (code ${r.error.code})`;
  if (r.error.code === 'internal') return `internal: ${r.error.message}`;
  return null;
}

/** The stack of an `internal` answer: run the handler directly. */
async function stackOf(name: RequestName, payload: unknown): Promise<string | undefined> {
  try {
    const input = parseInput(name, payload);
    await (lab.handlers[name] as (i: unknown) => unknown)(input);
    return 'no error on rerun';
  } catch (e) {
    return e instanceof Error ? e.stack : String(e);
  }
}

describe('contract fuzz', () => {
  it('its checker flags an internal answer, a bad code and an empty message', async () => {
    const boom = { ...lab.handlers, 'lab/info': () => { throw new TypeError('boom'); } } as typeof lab.handlers;
    expect(envelopeProblem(await dispatch(boom, 'lab/info', {}))).toMatch(/^internal: boom/);
    expect(envelopeProblem({ ok: false, error: { code: 'oops', message: 'm' } })).toMatch(/malformed error/);
    expect(envelopeProblem({ ok: false, error: { code: 'not_found', message: ' ' } })).toMatch(/empty message/);
    expect(envelopeProblem(await dispatch(lab.handlers, 'datasets/get', { id: 7 }))).toBeNull();
  });

  it('answers thousands of malformed payloads on every request with typed envelopes, never internal', async () => {
    const names = [...requestNames];
    const rng = mulberry32(SEED);
    const findings: Finding[] = [];
    const perName: Record<string, number> = {};
    const codes: Record<string, number> = {};
    let skipped = 0;
    let longestMessage = { length: 0, name: '' };
    const protoKeysBefore = Object.getOwnPropertyNames(Object.prototype).sort().join(',');

    const check = async (index: number, name: unknown, payload: unknown): Promise<Reply<unknown> | undefined> => {
      const res = await send(name, payload);
      const label = typeof name === 'string' && names.includes(name as RequestName) ? name : `(bad name ${preview(name, 30)})`;
      perName[label] = (perName[label] ?? 0) + 1;
      let problem: string | null;
      if (res.hung) problem = `no answer within ${CALL_TIMEOUT_MS} ms`;
      else if ('thrown' in res) problem = `dispatch rejected: ${res.thrown instanceof Error ? res.thrown.stack : String(res.thrown)}`;
      else problem = envelopeProblem(res.reply);
      const reply = res.reply as Reply<unknown> | undefined;
      const code = reply ? (reply.ok ? 'ok' : String(reply.error?.code)) : res.hung ? 'hang' : 'thrown';
      codes[code] = (codes[code] ?? 0) + 1;
      if (reply && !reply.ok && typeof reply.error?.message === 'string' && reply.error.message.length > longestMessage.length) {
        longestMessage = { length: reply.error.message.length, name: label };
      }
      if (!problem && name === 'exports/file' && reply?.ok) problem = 'exports/file answered a file, but the exports folder is empty';
      if (problem) {
        const f: Finding = { index, name: label, payload: preview(payload), problem };
        if (code === 'internal' && label === name) f.stack = await stackOf(name as RequestName, payload);
        findings.push(f);
      }
      return reply;
    };

    const started = Date.now();
    const missingBases = names.filter((n) => !BASES[n]);
    let index = 0;

    // 1. every base payload as is (valid-shaped; the expensive ones point at nothing)
    for (const name of names) for (const base of BASES[name] ?? []) await check(index++, name, structuredClone(base));
    // 2. names that are not requests
    for (const bad of ['', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'lab/info/', 'LAB/INFO', 'lab\\info', '../lab/info', 'x'.repeat(10_000), null, 7, ['lab/info'], { name: 'lab/info' }]) {
      const i = index++;
      const r = await check(i, bad, {});
      if (r && (r.ok || r.error.code !== 'unknown_request')) findings.push({ index: i, name: `(bad name ${preview(bad, 30)})`, payload: '{}', problem: `expected unknown_request, got ${preview(r)}` });
    }
    // 3. the fuzz proper, round-robin over the request names so the time bound cuts evenly
    for (let i = 0; i < MAX_PAYLOADS && Date.now() - started < BUDGET_MS; i++) {
      const name = names[i % names.length]!;
      const bases = BASES[name] ?? [{}];
      const base = structuredClone(pick(rng, bases)) as Record<string, unknown>;
      const r = rng();
      let payload: unknown;
      if (r < 0.25) payload = topLevelJunk(rng, base);
      else {
        mutate(rng, base);
        if (r > 0.85) mutate(rng, base); // sometimes two mutations
        payload = base;
      }
      if (tooHeavy(name, payload)) {
        skipped++;
        continue;
      }
      await check(index++, name, payload);
    }
    const fuzzMs = Date.now() - started;

    // the jobs some payloads started (imports of missing files…) all end
    const jobs = lab.jobs.list();
    const ended = await Promise.race([
      Promise.all(jobs.map((j) => lab.jobs.wait(j.id))),
      new Promise<null>((r) => setTimeout(() => r(null), 30_000)),
    ]);
    const jobStatuses: Record<string, number> = {};
    for (const j of ended ?? []) jobStatuses[j.status] = (jobStatuses[j.status] ?? 0) + 1;

    const counts = Object.entries(perName).filter(([n]) => names.includes(n as RequestName));
    console.log(
      `contract-fuzz seed=${SEED} payloads=${index} (skipped ${skipped}) over ${names.length} requests in ${(fuzzMs / 1000).toFixed(1)} s; ` +
        `codes ${JSON.stringify(codes)}; jobs ${JSON.stringify(jobStatuses)}; longest error message ${longestMessage.length} chars (${longestMessage.name})`,
    );
    console.log(`contract-fuzz per request: ${counts.map(([n, c]) => `${n}=${c}`).join(' ')}`);
    if (missingBases.length) console.log(`contract-fuzz: no base payload for ${missingBases.join(', ')} (top-level junk and unknown keys only)`);
    if (findings.length) {
      console.log(`contract-fuzz: ${findings.length} findings (first 25):\n` + findings.slice(0, 25).map((f) => `#${f.index} ${f.name} ${f.payload}\n  ${f.problem}${f.stack ? `\n  ${f.stack.split('\n').slice(0, 8).join('\n  ')}` : ''}`).join('\n'));
    }

    expect(findings.map((f) => `${f.name} #${f.index}: ${f.problem.split('\n')[0]} — payload ${f.payload}`)).toEqual([]);
    expect(ended, 'every job started by a fuzz payload ends within 30 s').not.toBeNull();
    // every request name got a fair share
    for (const n of names) expect(perName[n] ?? 0, n).toBeGreaterThanOrEqual(Math.min(10, Math.floor(MAX_PAYLOADS / names.length)));
    // nothing polluted Object.prototype, no run was launched
    expect(Object.getOwnPropertyNames(Object.prototype).sort().join(',')).toBe(protoKeysBefore);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(lab.runs.list()).toEqual([]);
    // the Lab still answers
    const info = await dispatch(lab.handlers, 'lab/info', {});
    expect(info).toMatchObject({ ok: true, result: { name: 'Disentanglement Lab' } });
    const list = await dispatch(lab.handlers, 'datasets/list', {});
    expect(list.ok).toBe(true);
  });
});
