import type { Command } from '../command.js';

export const infoCommand: Command = {
  path: ['info'],
  summary: 'Version, compute backend (and why not a better one), lab dir, schema version.',
  usage: 'dlab info [--json] [--lab-dir DIR]',
  async run(ctx) {
    const lab = await ctx.openLab();
    try {
      const info = lab.info();
      if (ctx.json) ctx.out(JSON.stringify(info, null, 2));
      else {
        ctx.out(`${info.name} ${info.version}`);
        ctx.out(`compute backend: ${info.backend}`);
        for (const n of info.backendNotes) ctx.out(`  - ${n}`);
        ctx.out(`lab dir:         ${info.labDir}`);
        ctx.out(`schema version:  ${info.schemaVersion}`);
        ctx.out(`node ${info.node} on ${info.platform}`);
      }
      return 0;
    } finally {
      await lab.close();
    }
  },
};
