// README's code under "Use it in your API" compiles as users copy it: strict, with noUnusedLocals,
// against the library's own types; and the token doctor's section lists every flag and exit status.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { DOCTOR_EXIT, DOCTOR_USAGE } from '../libs/azure-auth/src/cli/run.js';

const REPO_ROOT = join(import.meta.dirname, '..');
const README = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');

/** The text of a README section: from its heading to the next heading of the same or a higher level. */
function section(heading: string): string {
  const start = README.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`README has no section "${heading}"`);
  const level = /^#+/.exec(heading)![0].length;
  const rest = README.slice(start + heading.length + 2);
  const next = new RegExp(`\\n#{1,${level}} `).exec(rest);
  return next ? rest.slice(0, next.index) : rest;
}

function codeBlocks(text: string, language: string): string[] {
  return [...text.matchAll(new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((match) => match[1]);
}

/** Type-checks files as one program, the way a user's strict Nest project would. */
function typeErrors(files: string[]): string[] {
  const program = ts.createProgram(files, {
    strict: true,
    noUnusedLocals: true,
    noEmit: true,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    skipLibCheck: true,
    types: ['node'],
    paths: { 'nestjs-azure-auth': [join(REPO_ROOT, 'libs/azure-auth/src/index.ts')] },
  });
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const where = diagnostic.file ? `${diagnostic.file.fileName}:${diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0).line + 1}` : '';
    return `${where} ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
  });
}

/** Each block as a file of its own in `directory`, named in README's order. */
async function writeSnippets(directory: string, blocks: string[]): Promise<string[]> {
  await mkdir(directory, { recursive: true });
  return Promise.all(
    blocks.map(async (code, index) => {
      const file = join(directory, `snippet-${index + 1}.ts`);
      await writeFile(file, code);
      return file;
    }),
  );
}

describe('README: "Use it in your API"', () => {
  const directory = join(REPO_ROOT, '.tmp', 'readme-snippets');
  const blocks = codeBlocks(section('## Use it in your API'), 'ts');

  afterAll(() => rm(directory, { recursive: true, force: true }));

  it('shows the module with its guard and decorators, forRootAsync with useFactory and with useClass, a group route, the groups overage options and a step-up route', () => {
    expect(blocks).toHaveLength(6);
    expect(blocks[0]).toContain('AzureAuthModule.forRoot(');
    expect(blocks[1]).toMatch(/forRootAsync\(\{[\s\S]*useFactory/);
    expect(blocks[2]).toMatch(/implements AzureAuthOptionsFactory[\s\S]*createAzureAuthOptions\(\)[\s\S]*useClass: AzureAuthConfig/);
    expect(blocks[3]).toMatch(/@Groups\('8f2b6c1e-/);
    expect(blocks[4]).toMatch(/groupsOverage: \{ resolve: 'on-behalf-of'/);
    expect(blocks[5]).toMatch(/@RequireAuthContext\('c1'\)/);
  });

  it('compiles each snippet as it stands, strict and with noUnusedLocals', async () => {
    expect(typeErrors(await writeSnippets(directory, blocks))).toEqual([]);
  }, 60_000);

  it('would catch an unused import: the check is not toothless', async () => {
    await mkdir(directory, { recursive: true });
    const file = join(directory, 'unused.ts');
    await writeFile(file, `import { Post } from '@nestjs/common';\nimport { AzureAuthModule } from 'nestjs-azure-auth';\nexport const m = AzureAuthModule;\n`);
    expect(typeErrors([file]).join('\n')).toContain("'Post' is declared but its value is never read");
  }, 60_000);
});

describe('README: "Calling downstream APIs"', () => {
  const directory = join(REPO_ROOT, '.tmp', 'readme-snippets-downstream');
  // The API's side: the controller with its module, and the credentials (the last block is the SPA's, in the browser).
  const blocks = codeBlocks(section('## Calling downstream APIs'), 'ts').slice(0, 2);

  afterAll(() => rm(directory, { recursive: true, force: true }));

  it('compiles the profile route and the credentials as they stand, strict and with noUnusedLocals', async () => {
    expect(blocks[0]).toContain('this.downstream.fetch(caller');
    expect(blocks[1]).toContain('AzureClientCredential');
    expect(typeErrors(await writeSnippets(directory, blocks))).toEqual([]);
  }, 60_000);
});

describe('README: "Token doctor"', () => {
  const doctor = section('## Token doctor');

  it.each(Object.entries(DOCTOR_EXIT))('lists exit status %s (%i)', (_name, code) => {
    expect(doctor).toMatch(new RegExp(`\\n\\| ${code} \\| \\S`));
  });

  it.each(['--json', '--no-verify', '--help', '--version'])('lists %s, which the doctor accepts', (flag) => {
    expect(DOCTOR_USAGE).toContain(flag);
    expect(doctor).toContain(`\`${flag}\``);
  });
});
