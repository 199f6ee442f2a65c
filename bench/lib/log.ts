/** Progress goes to stderr; stdout carries only the results table (so it can be piped). */
export type Log = (message: string) => void;

const started = Date.now();

export const log: Log = (message) => {
  const s = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[bench ${s}s] ${message}\n`);
};
