/**
 * The warnings of a run, from every process and thread in it (MaxListenersExceededWarning was
 * one). The bench process hears its own through the `warning` event; its worker threads and child
 * processes (servers, cluster workers, the memory child) have Node write theirs to one file,
 * `--redirect-warnings`, which `finish()` reads. Node prints the bench process's own; the
 * run prints the others from the file.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const FILE_VARIABLE = 'BENCH_WARNINGS_FILE';

/**
 * A worker thread's `execArgv`, sending its warnings to the run's file when a run collects them.
 * Given `execArgv`, a worker inherits none of its parent's; the bench's only flag, `--expose-gc`, is
 * V8's and so holds for the whole process anyway (and a worker refuses it).
 */
export function workerExecArgv() {
  const file = process.env[FILE_VARIABLE];
  return file ? [`--redirect-warnings=${file}`] : undefined;
}

/** Starts collecting: call before any worker thread or child process starts. */
export function collectWarnings() {
  const own = [];
  process.on('warning', (warning) => own.push(`${warning.name}: ${warning.message}`));
  const directory = mkdtempSync(join(tmpdir(), 'bench-warnings-'));
  const file = join(directory, 'warnings.txt');
  process.env[FILE_VARIABLE] = file;
  // Forked children take NODE_OPTIONS from the environment they are given (a copy of this one).
  process.env.NODE_OPTIONS = [process.env.NODE_OPTIONS, `--redirect-warnings=${file}`].filter(Boolean).join(' ');
  return {
    /** Prints the others' warnings, removes the file, and returns every warning: this process's, then one line each of the others' (`(node:pid) Name: message`). */
    finish(log) {
      let others = [];
      try {
        others = readFileSync(file, 'utf8').split('\n').filter((line) => line.startsWith('(node:'));
      } catch {
        // No file: no other process or thread warned.
      }
      rmSync(directory, { recursive: true, force: true });
      for (const warning of others) log(`warning: ${warning}`);
      return [...own, ...others];
    },
  };
}
