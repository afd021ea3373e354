import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError, flagNumber, flagString, type Command } from '../command.js';
import { rendererDir } from '../paths.js';

export const serveCommand: Command = {
  path: ['serve'],
  summary: 'Browser mode: serve the lab on http://127.0.0.1 with an access token.',
  usage: 'dlab serve [--host 127.0.0.1] [--port N] [--json]',
  // the tests' own built renderer
  flags: ['renderer-dir'],
  async run(ctx) {
    const host = flagString(ctx.args, 'host') ?? '127.0.0.1';
    // an empty host would bind every interface and print http://:PORT/
    if (host.trim() === '') throw new UsageError('--host must not be empty (127.0.0.1 for this machine only, 0.0.0.0 for every interface)');
    const port = flagNumber(ctx.args, 'port', { integer: true, min: 0 }) ?? 0;
    const dir = flagString(ctx.args, 'renderer-dir') ?? rendererDir();
    if (!fs.existsSync(path.join(dir, 'index.html'))) {
      throw new Error(`the renderer is not built (no ${path.join(dir, 'index.html')}); run: npm run build`);
    }
    const { startServer } = await import('../../server/server.js');
    const lab = await ctx.openLab();
    let server;
    try {
      server = await startServer({ lab, host, port, rendererDir: dir });
    } catch (e) {
      await lab.close();
      throw e;
    }
    const loopback = host === 'localhost' || host === '::1' || host.startsWith('127.');
    if (ctx.json) ctx.out(JSON.stringify({ url: server.url, origin: server.origin, port: server.port, labDir: lab.labDir, backend: lab.info().backend }));
    else {
      ctx.out(`Disentanglement Lab in browser mode — open: ${server.url}`);
      ctx.out(`lab dir: ${lab.labDir}   backend: ${lab.info().backend}   (Ctrl+C stops)`);
    }
    // on stderr, so --json output stays one parseable line
    if (host === '0.0.0.0' || host === '::') ctx.err(`warning: listening on all interfaces (${host}), reachable from other machines; keep the token secret`);
    else if (!loopback) ctx.err(`warning: listening on ${host}, reachable from other machines; keep the token secret`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await server.close();
    await lab.close();
    return 0;
  },
};
