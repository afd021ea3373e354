/**
 * Entry of the lab's worker threads (src/core/threads.ts starts them): the
 * built app runs out/main/thread-worker.js (an extra entry in
 * electron.vite.config.ts), a clone the TypeScript source through tsx.
 */
import { threadTasks } from './thread-tasks.js';
import { serveThreadTasks } from './util/thread-job.js';

serveThreadTasks(threadTasks);
