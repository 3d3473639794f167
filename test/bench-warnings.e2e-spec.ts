import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * The bench's "no warnings" target counts every process and thread of a run (bench/warnings.mjs):
 * a warning of a worker thread or of a child process must reach the count, not only the bench
 * process's own.
 */
describe('bench: warnings of every process and thread', () => {
  it('counts the warnings of the bench process, a worker thread and a forked child', () => {
    const fixture = join(process.cwd(), 'test', 'support', 'bench-warnings-fixture.mjs');
    const { NODE_OPTIONS: _jestOptions, ...env } = process.env;
    const run = spawnSync(process.execPath, [fixture], { env, encoding: 'utf8', timeout: 20_000 });
    expect(run.status).toBe(0);
    const warnings = JSON.parse(run.stdout) as string[];
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toBe('BenchFixtureWarning: from the bench process');
    // The fixture runs the worker, then the child.
    expect(warnings.slice(1)).toEqual([
      expect.stringMatching(/^\(node:\d+\) BenchFixtureWarning: from the worker$/),
      expect.stringMatching(/^\(node:\d+\) BenchFixtureWarning: from the child$/),
    ]);
  });
});
