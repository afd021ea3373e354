/**
 * The run listing over the real transports: runs/list pages (gzip over HTTP
 * when the client accepts it), runs/compare and the batched evaluations, on
 * a lab filled with synthetic runs.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '../../src/core/lab.js';
import { fillSyntheticRuns, syntheticRunId } from '../../src/core/runs/bench-ui.js';
import { openDb } from '../../src/core/store/db.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { dispatch } from '../../src/shared/dispatch.js';
import type { CompareResult, EvaluationRecord, RunPage } from '../../src/shared/runs.js';
import { runDlab } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

const N = 300;
let lab: Lab;
let server: RunningServer;
const tmp = tmpDir();

beforeAll(async () => {
  const rendererDir = path.join(tmp.dir, 'renderer');
  fs.mkdirSync(rendererDir);
  fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>t</title>');
  const labDir = path.join(tmp.dir, 'lab');
  lab = await Lab.open({ labDir });
  const db = openDb(path.join(labDir, 'lab.sqlite'));
  fillSyntheticRuns(db, N, 3);
  db.close();
  server = await startServer({ lab, rendererDir, log: () => undefined });
});
afterAll(async () => {
  await server?.close();
  await lab?.close();
  tmp.cleanup();
});

function post(name: string, payload: unknown, headers: Record<string, string> = {}): Promise<{ status: number; encoding: string | undefined; timing: string | undefined; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify(payload);
    const req = http.request(
      { host: '127.0.0.1', port: server.port, method: 'POST', path: `/api/${name}`, agent: false, headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json', ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, encoding: res.headers['content-encoding'], timing: res.headers['server-timing'] as string | undefined, body: Buffer.concat(chunks) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('runs at scale over the transports', () => {
  it('serves a page of runs gzipped when asked, plain otherwise', async () => {
    const gz = await post('runs/list', { limit: 50, status: ['finished'] }, { 'Accept-Encoding': 'gzip, deflate' });
    expect(gz.status).toBe(200);
    expect(gz.encoding).toBe('gzip');
    // the handler's own time, for devtools: a positive duration in ms
    expect(gz.timing).toMatch(/^app;dur=\d+\.\d$/);
    expect(Number(gz.timing!.split('=')[1])).toBeGreaterThan(0);
    const text = zlib.gunzipSync(gz.body).toString('utf8');
    expect(gz.body.length).toBeLessThan(text.length / 3);
    const answer = JSON.parse(text) as { ok: boolean; result: { runs: { status: string }[]; total: number; counts: Record<string, number> } };
    expect(answer.ok).toBe(true);
    expect(answer.result.runs).toHaveLength(50);
    expect(answer.result.runs.every((r) => r.status === 'finished')).toBe(true);
    expect(answer.result.total).toBe(answer.result.counts.finished);
    expect(Object.values(answer.result.counts).reduce((a, b) => a + b, 0)).toBe(N);

    const plain = await post('runs/list', { limit: 50, status: ['finished'] });
    expect(plain.encoding).toBeUndefined();
    expect(JSON.parse(plain.body.toString('utf8'))).toEqual(answer);
    // gzip;q=0 refuses it
    expect((await post('runs/list', {}, { 'Accept-Encoding': 'gzip;q=0' })).encoding).toBeUndefined();
  });

  it('runs/list without arguments: the newest 100 with the total', async () => {
    const r = (await dispatch(lab.handlers, 'runs/list', {})) as { ok: true; result: RunPage };
    expect(r.ok).toBe(true);
    expect(r.result.runs).toHaveLength(100);
    expect(r.result.total).toBe(N);
    expect(r.result.runs[0]!.id).toBe(syntheticRunId(N - 1));
    expect(r.result.runs[0]!.scores === undefined || typeof r.result.runs[0]!.scores === 'object').toBe(true);
  });

  it('runs/compare and the batched evaluations answer in one request each', async () => {
    const c = (await dispatch(lab.handlers, 'runs/compare', { metric: 'mig' })) as { ok: true; result: CompareResult };
    expect(c.ok).toBe(true);
    expect(c.result.groups.reduce((a, g) => a + g.runs, 0)).toBe(c.result.total);
    expect(c.result.metrics).toContain('mig');
    const ids = [syntheticRunId(0), syntheticRunId(1), syntheticRunId(2)];
    const b = (await dispatch(lab.handlers, 'runs/evaluations/batch', { ids, latestOnly: true })) as { ok: true; result: Record<string, EvaluationRecord[]> };
    expect(b.ok).toBe(true);
    expect(Object.keys(b.result).sort()).toEqual(ids);
    for (const id of ids) {
      const one = (await dispatch(lab.handlers, 'runs/evaluations', { id })) as { ok: true; result: EvaluationRecord[] };
      expect(b.result[id]!.map((e) => e.id)).toEqual(one.result.map((e) => e.id));
    }
    const missing = await dispatch(lab.handlers, 'runs/evaluations/batch', { ids: [ids[0]!, 'no-such-run'] });
    expect(missing).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('dlab runs filters, sorts and pages in the store', () => {
    const labDir = path.join(tmp.dir, 'lab');
    const r = runDlab(['runs', '--lab-dir', labDir, '--status', 'finished,failed', '--sort', 'seed', '--limit', '7', '--offset', '3', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as { id: string; status: string; seed: number }[];
    expect(rows).toHaveLength(7);
    expect(rows.every((x) => x.status === 'finished' || x.status === 'failed')).toBe(true);
    expect(rows.map((x) => x.seed)).toEqual([...rows.map((x) => x.seed)].sort((a, b) => a - b));
    const text = runDlab(['runs', '--lab-dir', labDir, '--limit', '2']);
    expect(text.code).toBe(0);
    expect(text.stdout.trim().split('\n')).toHaveLength(2);
    expect(text.stderr).toContain(`2 of ${N} matching runs shown`);
    expect(runDlab(['runs', '--lab-dir', labDir]).stdout.trim().split('\n')).toHaveLength(N);
    const bad = runDlab(['runs', '--lab-dir', labDir, '--sort', 'loss']);
    expect(bad.code).toBe(2);
  });
});
