#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import { runDoctor } from './run.js';

async function packageVersion(): Promise<string | undefined> {
  try {
    const manifest = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof manifest.version === 'string' ? manifest.version : undefined;
  } catch {
    return undefined;
  }
}

// `inspect … | head` closes the pipe early: that is the reader's choice, not a failure.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});

// exitCode, not exit(): a piped stdout must be flushed before the process ends.
process.exitCode = await runDoctor({
  argv: process.argv.slice(2),
  env: process.env,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  version: await packageVersion(),
});
