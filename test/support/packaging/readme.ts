import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from './build-library.js';

/**
 * A fenced block of README.md that the packaging suite follows, marked on the line before it with
 * `<!-- read by test/packaging.e2e-spec.ts: NAME -->`.
 */
const MARKED_BLOCK = /^<!-- read by test\/packaging\.e2e-spec\.ts: (.+?) -->\n```(\w*)\n([\s\S]*?)^```$/gm;

/** One command of a `bash` block: `NAME=value` prefixes become its environment. */
export interface ReadmeCommand {
  readonly env: Readonly<Record<string, string>>;
  readonly command: string;
  readonly args: readonly string[];
}

/** README.md as the packaging suite reads it: the marked blocks, and the user's first example. */
export class Readme {
  private constructor(
    private readonly text: string,
    private readonly blocks: ReadonlyMap<string, string>,
  ) {}

  static async read(): Promise<Readme> {
    const text = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
    const blocks = new Map<string, string>();
    for (const [, name, , body] of text.matchAll(MARKED_BLOCK)) {
      if (blocks.has(name)) throw new Error(`README.md marks two blocks "${name}"`);
      blocks.set(name, body);
    }
    return new Readme(text, blocks);
  }

  /** The text of the block marked `name`. */
  block(name: string): string {
    const body = this.blocks.get(name);
    if (body === undefined) throw new Error(`README.md has no block marked <!-- read by test/packaging.e2e-spec.ts: ${name} -->`);
    return body;
  }

  /** The commands of the `bash` block marked `name`, one per line, as a shell would split them. */
  commands(name: string): ReadmeCommand[] {
    return this.block(name)
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => {
        if (/["'`|&;<>$\\]/.test(line)) throw new Error(`README.md block "${name}": "${line}" uses shell syntax this suite does not follow`);
        const words = line.split(/\s+/);
        const env: Record<string, string> = {};
        while (/^[A-Z_]+=/.test(words[0] ?? '')) {
          const [variable, ...value] = words.shift()!.split('=');
          env[variable] = value.join('=');
        }
        const [command, ...args] = words;
        return { env, command, args };
      });
  }

  /** The first `language` block under the heading `## title` (or `### title`). */
  firstBlockUnder(title: string, language: string): string {
    const heading = this.text.search(new RegExp(`^#{2,3} ${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    if (heading < 0) throw new Error(`README.md has no section "${title}"`);
    const block = new RegExp(`^\`\`\`${language}\\n([\\s\\S]*?)^\`\`\`$`, 'm').exec(this.text.slice(heading));
    if (block === null) throw new Error(`README.md section "${title}" has no ${language} block`);
    return block[1];
  }

  /** Whether README says this, anywhere. */
  says(phrase: string): boolean {
    return this.text.includes(phrase);
  }
}
