import type { Command } from '../command.js';
import { flagBool, withLab } from '../helpers.js';
import type { ComputeDiagnosis } from '../../shared/requests/app.js';

/** The compute diagnosis as text: what is in use, then each finding with its evidence and what to do. */
export function formatDiagnosis(d: ComputeDiagnosis): string[] {
  const lines = [`compute:         ${d.headline}`];
  for (const f of d.findings) {
    lines.push(`  ${f.severity === 'warn' ? '✗' : '·'} ${f.backend}: ${f.summary}`);
    if (f.detail) lines.push(`      evidence: ${f.detail}`);
    for (const a of f.actions) lines.push(`      → ${a}`);
  }
  const r = d.requirements;
  lines.push(`  GPU backend needs: ${r.package}@${r.version} (libtensorflow ${r.libtensorflow}), NVIDIA driver ≥ ${r.driver}, CUDA ${r.cuda}, cuDNN ${r.cudnn}; ${r.platforms.join(', ')}`);
  const m = d.machine;
  lines.push(
    `  this machine: ${m.platform}; NVIDIA GPUs: ${m.gpus.length ? m.gpus.join(', ') : 'none found'}${m.nvidiaDriver ? ` (driver ${m.nvidiaDriver})` : ''}; ${r.package}: ${m.tfjsNodeGpu ?? 'not installed'}`,
  );
  const w = m.webgpu;
  if (w) {
    lines.push(
      `  webgpu adapter: ${w.device || w.description || 'unknown'}${w.software ? ' (software)' : ''}; vendor ${w.vendor || '?'}, architecture ${w.architecture || '?'}; ${w.description}; via ${w.via === 'software' ? 'OpenGL ES (compatibility)' : 'the platform API (Vulkan/Metal/D3D12)'}`,
      `  webgpu limits: ${Object.entries(w.limits).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    );
  }
  return lines;
}

export const infoCommand: Command = {
  path: ['info'],
  summary: 'Version, compute backend (and why not a better one, with what to do), lab dir, schema version.',
  usage: 'dlab info [--json] [--recheck] [--lab-dir DIR]\n  --recheck  load the GPU package in a child process and read TensorFlow’s own log (a few seconds)',
  async run(ctx) {
    return withLab(ctx, async (lab) => {
      const info = lab.info();
      const compute = await lab.handlers['app/compute']({ recheck: flagBool(ctx.args, 'recheck') });
      if (ctx.json) ctx.out(JSON.stringify({ ...info, compute }, null, 2));
      else {
        ctx.out(`${info.name} ${info.version}`);
        ctx.out(`compute backend: ${info.backendLabel ?? info.backend}`);
        for (const l of formatDiagnosis(compute)) ctx.out(l);
        ctx.out(`lab dir:         ${info.labDir}`);
        ctx.out(`schema version:  ${info.schemaVersion}`);
        ctx.out(`node ${info.node} on ${info.platform}`);
      }
      return 0;
    });
  },
};
