import type { MintOptions } from 'nestjs-azure-auth/testing';
import { DEV_EXAMPLES, curlCommand, exampleHeading, formatDevExamples, shellWord, type DevExample } from './dev-examples.js';

const example: DevExample = {
  caller: 'writer',
  description: 'user, scope Todolist.ReadWrite',
  method: 'POST',
  path: '/api/todolist',
  body: { description: "It's done" },
  expectedStatus: 201,
  token: { scopes: ['Todolist.ReadWrite'] },
};

describe('dev-mode examples', () => {
  it('quotes only the words a shell would split or expand, and quotes single quotes the POSIX way', () => {
    expect(shellWord('http://127.0.0.1:3000/api/todolist')).toBe('http://127.0.0.1:3000/api/todolist');
    expect(shellWord('Authorization: Bearer a.b.c')).toBe("'Authorization: Bearer a.b.c'");
    expect(shellWord('{"description":"It\'s"}')).toBe(`'{"description":"It'\\''s"}'`);
    expect(shellWord('$HOME')).toBe("'$HOME'");
    expect(shellWord('http://[::1]:3000/api')).toBe("'http://[::1]:3000/api'");
  });

  it('writes a curl command with method, bearer token, JSON body and URL', () => {
    expect(curlCommand(example, 'http://127.0.0.1:3000', 'h.p.s')).toBe(
      `curl -i -X POST -H 'Authorization: Bearer h.p.s' -H 'Content-Type: application/json' -d '{"description":"It'\\''s done"}' http://127.0.0.1:3000/api/todolist`,
    );
    expect(curlCommand({ ...example, method: 'GET', body: undefined }, 'http://127.0.0.1:3000', 'h.p.s')).toBe(
      `curl -i -H 'Authorization: Bearer h.p.s' http://127.0.0.1:3000/api/todolist`,
    );
  });

  it('heads each command with a comment naming the caller and the expected answer', () => {
    expect(exampleHeading(example)).toBe('# writer (user, scope Todolist.ReadWrite): POST /api/todolist -> 201');
    for (const printed of DEV_EXAMPLES) expect(printed.description).not.toMatch(/[()]/);
  });

  it('mints every token with one issue time and the stated lifetime, and keeps the rest of the block a shell comment', () => {
    const minted: MintOptions[] = [];
    const block = formatDevExamples({
      baseUrl: 'http://127.0.0.1:3000',
      authorityHost: 'http://127.0.0.1:4000',
      tenantId: 't',
      clientId: 'c',
      lifetimeSeconds: 3600,
      now: new Date('2030-01-01T00:00:00.000Z'),
      mint: (options) => {
        minted.push(options);
        return `token${minted.length}.p.s`;
      },
    });
    // One token per curl call, and one for the live-updates client.
    expect(minted).toHaveLength(DEV_EXAMPLES.length + 1);
    for (const options of minted) expect(options).toMatchObject({ issuedAt: 1893456000, expiresInSeconds: 3600 });
    expect(block).toContain('valid until 2030-01-01T01:00:00Z');
    const lines = block.split('\n').filter(Boolean);
    expect(lines.filter((line) => !line.startsWith('#') && !line.startsWith('curl ') && !line.startsWith('node --input-type=module -e '))).toEqual([]);
    expect(lines.filter((line) => line.startsWith('node '))).toHaveLength(1);
    expect(lines.filter((line) => line.startsWith('curl '))).toHaveLength(DEV_EXAMPLES.length);
    expect(block).not.toMatch(/Swagger UI/);
  });

  it('points at Swagger UI when told where it is, on a comment line', () => {
    const block = formatDevExamples({
      baseUrl: 'http://127.0.0.1:3000',
      authorityHost: 'http://127.0.0.1:4000',
      tenantId: 't',
      clientId: 'c',
      lifetimeSeconds: 3600,
      mint: () => 'h.p.s',
      swaggerUiUrl: 'http://127.0.0.1:3000/docs',
    });
    expect(block.split('\n').filter((line) => line.includes('Swagger UI'))).toEqual([
      "# Swagger UI: http://127.0.0.1:3000/docs (Authorize signs you in at once as the emulator's user).",
    ]);
  });

  it('covers a reader, a writer, a daemon, an admin and refused callers', () => {
    const statuses = new Map(DEV_EXAMPLES.map((printed) => [printed.caller, printed.expectedStatus]));
    expect([...statuses.keys()]).toEqual(expect.arrayContaining(['reader', 'writer', 'daemon', 'admin']));
    expect(DEV_EXAMPLES.find((printed) => printed.caller === 'daemon')?.token).toMatchObject({ kind: 'app' });
    expect(DEV_EXAMPLES.filter((printed) => printed.expectedStatus >= 400).length).toBeGreaterThanOrEqual(1);
  });
});
