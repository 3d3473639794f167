#!/usr/bin/env node
import { readFile, realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { runDoctor } from './run.js';

/**
 * The version in the package's manifest. The running script (`dist/esm/cli/main.js`, or
 * `dist/cjs/cli/main.js`) says where the package is: `import.meta` exists in the ES module build
 * only, and `node_modules/.bin` holds a link to the script, hence the realpath.
 */
async function packageVersion(script: string | undefined): Promise<string | undefined> {
  try {
    const manifestPath = join(dirname(await realpath(script ?? '')), '..', '..', '..', 'package.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as { version?: unknown };
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

async function main(): Promise<void> {
  // exitCode, not exit(): a piped stdout must be flushed before the process ends.
  process.exitCode = await runDoctor({
    argv: process.argv.slice(2),
    env: process.env,
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    version: await packageVersion(process.argv[1]),
  });
}

// No top-level await: the CommonJS build has none.
void main();
