import { parseArgs } from 'node:util';
import { toAzureAuthError } from '../errors/to-azure-auth-error.js';
import type { AzureAuthModuleOptions } from '../azure-auth.options.js';
import { DOCTOR_ENV_VARIABLES, readDoctorConfig } from './config.js';
import { formatJson, formatText, type DoctorReport } from './format.js';
import { inspectToken, normalizeTokenInput, type TokenInspection } from './inspect.js';
import type { Verdict } from './verify.js';

/** Exit statuses of the doctor. */
export const DOCTOR_EXIT = {
  /** Valid, or decoded when verification was not asked for. */
  ok: 0,
  /** Refused by the verification, or not a decodable token. */
  refused: 1,
  /** Unknown command or option, no token, missing or invalid configuration. */
  usage: 2,
  /** The check itself broke (a bug or a broken installation); says nothing about the token. */
  internal: 3,
} as const;

export const DOCTOR_USAGE = `Usage: nestjs-azure-auth inspect [<token> | -] [--json] [--no-verify]

Decodes a Microsoft Entra ID access token, shows its header and claims (never its signature),
then verifies it the way the API does, with nestjs-azure-auth itself, and says why it would be
refused and how to fix that.

  <token>        The access token ("Bearer <token>" is accepted too). Without it, or with "-",
                 the token is read from stdin. Prefer stdin: command lines show up in ps and in
                 shell history.
  --json         Machine-readable output.
  --no-verify    Decode only; nothing is fetched.
  -h, --help     This help.
  -V, --version  The version.

Verification is configured by the environment, as the sample app is:
  ${DOCTOR_ENV_VARIABLES.tenantId}        tenant GUID or domain (or organizations / common)
  ${DOCTOR_ENV_VARIABLES.clientId}        application (client) id of the API
  ${DOCTOR_ENV_VARIABLES.authorityHost}   optional; default https://login.microsoftonline.com
  ${DOCTOR_ENV_VARIABLES.allowedTenants}  optional; trusted tenant GUIDs, comma separated
  ${DOCTOR_ENV_VARIABLES.authority}        instead of ${DOCTOR_ENV_VARIABLES.tenantId} and ${DOCTOR_ENV_VARIABLES.authorityHost}: the whole
                         authority URL (a B2C policy, External ID, a custom domain)
Without ${DOCTOR_ENV_VARIABLES.clientId} and ${DOCTOR_ENV_VARIABLES.tenantId} (or ${DOCTOR_ENV_VARIABLES.authority}) the token is only decoded. Verification
fetches Entra's public metadata and signing keys; the token itself is sent nowhere.

Exit status:
  0  valid; or decoded, when verification is not configured or --no-verify is given
  1  refused by the verification, or not a decodable token
  2  usage: unknown command or option, no token, incomplete or invalid configuration
  3  the check itself failed (a bug or a broken installation)

Examples:
  pbpaste | npx nestjs-azure-auth inspect
  npx nestjs-azure-auth inspect --json < token.txt
`;

/** What the doctor needs from its process; injectable so that it runs in tests. */
export interface DoctorIo {
  readonly argv: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly stdin: AsyncIterable<string | Buffer> & { readonly isTTY?: boolean };
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly version?: string;
  readonly now?: () => number;
  /** Default: the real verification (loaded only when needed, so decoding works without Nest). */
  readonly verify?: (token: string, options: AzureAuthModuleOptions) => Promise<Verdict>;
}

/** Nothing longer is a token; the limit keeps a wrong pipe from filling memory. */
const MAX_STDIN_BYTES = 1_048_576;

class UsageError extends Error {}

async function readStdin(stdin: DoctorIo['stdin']): Promise<string> {
  if (stdin.isTTY) throw new UsageError('no token: pass it as an argument or pipe it on stdin');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > MAX_STDIN_BYTES) throw new UsageError(`stdin holds more than ${MAX_STDIN_BYTES} bytes: not a token`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parse(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: 'boolean' },
        'no-verify': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'V' },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

async function decideVerdict(token: string, io: DoctorIo, noVerify: boolean): Promise<Verdict> {
  if (noVerify) return { status: 'skipped', note: '--no-verify: the token was decoded only.' };
  const config = readDoctorConfig(io.env);
  switch (config.kind) {
    case 'none':
      return {
        status: 'skipped',
        note: `Set ${DOCTOR_ENV_VARIABLES.tenantId} and ${DOCTOR_ENV_VARIABLES.clientId} (and ${DOCTOR_ENV_VARIABLES.authorityHost}, ${DOCTOR_ENV_VARIABLES.allowedTenants} as your API uses them), or ${DOCTOR_ENV_VARIABLES.authority} and ${DOCTOR_ENV_VARIABLES.clientId}, to verify the token.`,
      };
    case 'incomplete':
      return { status: 'misconfigured', message: config.problem };
    case 'complete': {
      const verify = io.verify ?? (await import('./verify.js')).verifyToken;
      return verify(token, config.options);
    }
  }
}

function exitCodeOf(verdict: Verdict): number {
  switch (verdict.status) {
    case 'valid':
    case 'skipped':
      return DOCTOR_EXIT.ok;
    case 'refused':
      return DOCTOR_EXIT.refused;
    case 'misconfigured':
      return DOCTOR_EXIT.usage;
  }
}

async function inspectCommand(positionals: readonly string[], io: DoctorIo, json: boolean, noVerify: boolean): Promise<number> {
  if (positionals.length > 1) throw new UsageError('inspect takes one token');
  const given = positionals[0];
  const token = normalizeTokenInput(given === undefined || given === '-' ? await readStdin(io.stdin) : given);
  if (token === '') throw new UsageError('no token: the input is empty');
  const now = io.now ?? Date.now;
  let inspection: TokenInspection | undefined;
  let verdict: Verdict;
  try {
    inspection = inspectToken(token, now());
    verdict = await decideVerdict(token, io, noVerify);
  } catch (failure) {
    if (inspection) throw failure;
    // Not a token: nothing to verify, nothing to fetch.
    const [error] = toAzureAuthError(failure);
    verdict = { status: 'refused', reason: error.reason, httpStatus: error.status, description: error.description, hint: error.hint };
  }
  const report: DoctorReport = { token: inspection, verdict };
  const exitCode = exitCodeOf(verdict);
  io.stdout.write(json ? formatJson(report, exitCode) : formatText(report));
  return exitCode;
}

/**
 * The `nestjs-azure-auth` command: `inspect` decodes a token and, when the environment configures
 * an API, verifies it with the module. Resolves to the exit status ({@link DOCTOR_EXIT}).
 */
export async function runDoctor(io: DoctorIo): Promise<number> {
  try {
    const { values, positionals } = parse(io.argv);
    if (values.help || positionals[0] === 'help') {
      io.stdout.write(DOCTOR_USAGE);
      return DOCTOR_EXIT.ok;
    }
    if (values.version) {
      io.stdout.write(`${io.version ?? 'unknown'}\n`);
      return DOCTOR_EXIT.ok;
    }
    const [command, ...rest] = positionals;
    if (command === undefined) throw new UsageError('no command');
    // Never echo an unknown command back as it is: it may be a token pasted without "inspect".
    if (command !== 'inspect') throw new UsageError(/^[a-z][a-z-]{0,19}$/i.test(command) ? `unknown command "${command}"` : 'unknown command (a token goes after "inspect")');
    return await inspectCommand(rest, io, values.json === true, values['no-verify'] === true);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`nestjs-azure-auth: ${error.message}\n${DOCTOR_USAGE.slice(0, DOCTOR_USAGE.indexOf('\n') + 1)}Run "nestjs-azure-auth --help" for more.\n`);
      return DOCTOR_EXIT.usage;
    }
    io.stderr.write(`nestjs-azure-auth: the check failed: ${error instanceof Error ? error.message : String(error)}\n`);
    return DOCTOR_EXIT.internal;
  }
}
