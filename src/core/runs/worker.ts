/**
 * Training worker: a child process that trains one run and streams progress
 * to the supervisor over IPC. It never touches SQLite; it writes only inside
 * its run folder (checkpoints, codes).
 *
 * It never outlives its supervisor: when the IPC channel closes, when its
 * parent process is gone (checked every second, in case the disconnect is
 * missed) or when a message cannot be sent, it exits at once. Work the store
 * would never hear of is worthless, and the run's lease runs out so another
 * process can resume it from its last recorded checkpoint.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openDataset } from '../datasets/open.js';
import { openDerived } from '../perturbations/open.js';
import type { StoredDatasetRow } from '../datasets/service.js';
import { readCodes, writeCodes } from '../training/codes.js';
import { evaluateRun, evaluateSample } from './evaluate-run.js';
import { periodicEval } from '../training/config.js';
import type { FileRecord, FromWorker, StartMessage, ToWorker } from './protocol.js';
import { backendLabel, initBackend, isAsyncBackend } from '../compute/backend.js';
import { DeviceLostError } from '../compute/webgpu.js';
import { createRunTrainer, NonFiniteError } from '../training/run-trainer.js';
import { pidAlive } from '../util/process.js';

let stop: 'paused' | 'cancelled' | null = null;

/** Exit code of a worker whose supervisor went away. */
const ORPHANED_EXIT_CODE = 75;

function orphaned(): never {
  process.exit(ORPHANED_EXIT_CODE);
}

function send(m: FromWorker): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) orphaned();
    try {
      process.send(m, undefined, {}, (err) => (err ? orphaned() : resolve()));
    } catch {
      orphaned();
    }
  });
}

function fileRecords(labDir: string, dir: string): FileRecord[] {
  const out: FileRecord[] = [];
  for (const name of fs.readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    const st = fs.statSync(p);
    if (!st.isFile()) continue;
    const sha256 = crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    out.push({ path: path.relative(labDir, p).split(path.sep).join('/'), size: st.size, sha256 });
  }
  return out;
}

async function run(msg: StartMessage): Promise<void> {
  const { config: cfg, labDir, runDir } = msg;
  const threads = Math.max(1, msg.threads ?? 1);
  // a worker reads tensors asynchronously only in its steps: it may train on webgpu
  const backend = await initBackend({ ...(cfg.backend ? { prefer: cfg.backend } : {}), threads, asyncReads: true });
  const asyncSteps = isAsyncBackend(backend.backend);
  const rows = new Map<string, StoredDatasetRow>(msg.datasetRows.map((r) => [r.id, r]));
  const dataset = await openDataset(cfg.datasetId, (id) => rows.get(id), labDir, { openDerived });
  const trainer = await createRunTrainer(cfg, dataset, { training: true });
  if (msg.resumeFrom) await trainer.restore(msg.resumeFrom);
  await send({ type: 'started', backend: backendLabel(backend), notes: backend.notes, step: trainer.step, threads: backend.threads ?? 1 });

  const codesDir = path.join(runDir, 'codes');
  const evaluate = async () => {
    const req = msg.evaluate;
    if (!req || req.metrics.length === 0) return;
    await trainer.onHost(async () => {
      if (!fs.existsSync(path.join(codesDir, 'means.npy'))) {
        await writeCodes(trainer, dataset, Math.max(cfg.codesSamples, 1500), cfg.seed, codesDir);
      }
      const total = req.metrics.length;
      let index = 0;
      await evaluateRun(trainer, dataset, readCodes(codesDir), {
        ...req,
        onMetric: (score) => void send({ type: 'evaluation', score, index: index++, total }),
      });
    });
  };
  if (msg.mode === 'evaluate' && msg.evaluate?.points !== undefined) {
    const { step: _step, points, ...req } = msg.evaluate;
    const ev = await trainer.onHost(() => evaluateSample(trainer, dataset, { ...req, points }));
    await send({ type: 'series', ...ev });
    await send({ type: 'done', step: trainer.step });
    return;
  }
  if (msg.mode === 'evaluate') {
    await evaluate();
    await send({ type: 'done', step: trainer.step });
    return;
  }

  const checkpoint = async () => {
    const dir = path.join(runDir, 'checkpoints', `step-${String(trainer.step).padStart(8, '0')}`);
    const tmp = dir + '.tmp';
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    await trainer.save(tmp);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);
    await send({ type: 'checkpoint', step: trainer.step, dir: path.relative(labDir, dir), files: fileRecords(labDir, dir) });
  };

  // metric curves: the same scoring as the final one, on a fixed sample, every N steps
  const periodic = periodicEval(cfg);
  const scoreNow = async () => {
    if (!periodic) return;
    const ev = await trainer.onHost(() =>
      evaluateSample(trainer, dataset, {
        metrics: periodic.metrics,
        ...(periodic.settings ? { settings: periodic.settings } : {}),
        seed: cfg.seed,
        points: periodic.samples,
      }),
    );
    await send({ type: 'series', ...ev });
  };

  let t0 = performance.now();
  let s0 = trainer.step;
  let rate = 0;
  while (trainer.step < cfg.steps) {
    let out;
    try {
      out = asyncSteps ? await trainer.trainStepAsync() : trainer.trainStep();
    } catch (e) {
      if (e instanceof NonFiniteError) {
        await send({ type: 'failed', step: trainer.step, error: e.message, kind: 'nonfinite' });
        return;
      }
      if (e instanceof DeviceLostError) {
        // nothing on the device can be read any more: the last checkpoint written is the run's state
        await send({ type: 'failed', step: trainer.step, error: e.message, kind: 'error' });
        return;
      }
      throw e;
    }
    const step = trainer.step;
    if (step % cfg.progressEvery === 0 || step === cfg.steps) {
      const now = performance.now();
      const inst = ((step - s0) * 1000) / Math.max(1e-6, now - t0);
      rate = rate === 0 ? inst : 0.7 * rate + 0.3 * inst;
      t0 = now;
      s0 = step;
      await send({
        type: 'progress',
        step,
        losses: out.losses,
        ...(out.klPerDim ? { klPerDim: out.klPerDim } : {}),
        stepsPerSec: rate,
        etaSec: rate > 0 ? (cfg.steps - step) / rate : 0,
      });
    }
    if (periodic && step % periodic.every === 0) await scoreNow();
    if (step % cfg.checkpointEvery === 0 && step < cfg.steps) await checkpoint();
    // let IPC messages (stop) in
    await new Promise((r) => setImmediate(r));
    if (stop) {
      await checkpoint();
      await send({ type: 'stopped', reason: stop, step: trainer.step });
      return;
    }
  }
  await checkpoint();
  if (cfg.codesSamples > 0) {
    const files = await trainer.onHost(() => writeCodes(trainer, dataset, cfg.codesSamples, cfg.seed, codesDir));
    await send({ type: 'codes', samples: cfg.codesSamples, files: files.flatMap((f) => fileRecords(labDir, path.dirname(f)).filter((r) => r.path.endsWith(path.basename(f)))) });
  }
  await evaluate();
  await send({ type: 'done', step: trainer.step });
}

process.on('message', (m: ToWorker) => {
  if (m.type === 'stop') stop = m.reason;
  else if (m.type === 'start') {
    run(m)
      .catch(async (e: unknown) => {
        const err = e as Error;
        await send({ type: 'failed', step: -1, error: (err?.message ?? String(e)).split('\n')[0]!, kind: 'error' });
      })
      .finally(() => process.exit(0));
  }
});
process.on('SIGTERM', () => process.exit(143));
watchParent();

/** Exit when the supervisor goes: the channel's disconnect, and a once-a-second check as belt and braces. */
function watchParent(): void {
  if (!process.send) return; // not started by a supervisor (nothing to watch)
  const parent = process.ppid;
  process.on('disconnect', orphaned);
  setInterval(() => {
    if (!process.connected || process.ppid !== parent || !pidAlive(parent)) orphaned();
  }, 1000).unref();
}

