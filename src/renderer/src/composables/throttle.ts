/**
 * Run an async job at most once per `ms`: calls made while it runs or too
 * soon after are folded into one trailing call.
 */
export function throttled(job: () => Promise<void>, ms: number) {
  let running = false;
  let pending = false;
  let last = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;
  const fire = async () => {
    timer = null;
    if (stopped) return;
    if (running) {
      pending = true;
      return;
    }
    running = true;
    last = Date.now();
    try {
      await job();
    } finally {
      running = false;
      if (pending && !stopped) {
        pending = false;
        trigger();
      }
    }
  };
  const trigger = () => {
    if (stopped) return;
    if (running) {
      pending = true;
      return;
    }
    if (timer) return;
    timer = setTimeout(() => void fire(), Math.max(0, last + ms - Date.now()));
  };
  return {
    trigger,
    /** Run now (still never two at once). */
    now: () => (running ? ((pending = true), Promise.resolve()) : fire()),
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
