import { listClaim } from '../token/claims.js';
import type { TokenInspection } from './inspect.js';
import type { Verdict } from './verify.js';

/** Everything one `inspect` run found: the decoded token (absent when it could not be decoded) and the verdict. */
export interface DoctorReport {
  readonly token?: TokenInspection;
  readonly verdict: Verdict;
}

// Token content is attacker-controlled: terminal escapes and bidi overrides must not reach a terminal raw.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g;

/** Text made safe for a terminal: unprintable characters become `\uXXXX`. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function valueLines(value: unknown): string[] {
  if (typeof value === 'string') return [printable(value)];
  if (Array.isArray(value) && value.length > 0 && value.every((entry) => typeof entry === 'string')) return value.map((entry) => printable(entry));
  return [printable(JSON.stringify(value) ?? String(value))];
}

/** Rows of `name  value`, the name column as wide as its longest name; a list continues under its value. */
function table(rows: ReadonlyArray<readonly [string, readonly string[]]>): string[] {
  const width = Math.max(0, ...rows.map(([name]) => name.length));
  const lines: string[] = [];
  for (const [name, values] of rows) {
    const shown = values.length > 0 ? values : ['(none)'];
    shown.forEach((value, index) => lines.push(`  ${(index === 0 ? name : '').padEnd(width)}  ${value}`));
  }
  return lines;
}

function claimRows(token: TokenInspection): Array<[string, string[]]> {
  const times = new Map(token.times.map((time) => [time.claim as string, time]));
  return Object.entries(token.claims).map(([name, value]): [string, string[]] => {
    const time = times.get(name);
    if (time) return [printable(name), [`${time.iso}  (${time.relative})`]];
    if (name === 'scp' && typeof value === 'string') return [name, token.scopes.map((scope) => printable(scope))];
    return [printable(name), valueLines(value)];
  });
}

/** What a step-up route makes of the token: the authentication contexts it satisfied (`acrs`), and whether its client can answer a claims challenge (`xms_cc`). */
function stepUpRows(claims: Readonly<Record<string, unknown>>): Array<[string, string[]]> {
  const acrs = listClaim(claims.acrs);
  return [
    ['auth contexts', acrs.length > 0 ? [...acrs] : ['(none: no acrs claim)']],
    [
      'claims challenges',
      [listClaim(claims.xms_cc).includes('cp1') ? 'answered (xms_cc holds cp1): a step-up route sends a 401 challenge' : 'not declared (no cp1 in xms_cc): a step-up route answers 403 auth_context_required'],
    ],
  ];
}

function summaryRows(token: TokenInspection): Array<[string, string[]]> {
  const { summary, lifetime } = token;
  const kind = summary.kind === 'app-only' ? 'app-only (an application calling as itself)' : summary.guest ? 'delegated (a guest user)' : 'delegated (a signed-in user)';
  const rows: Array<[string, string[]]> = [
    ['kind', [kind]],
    ['version', [summary.version ?? '(no ver claim)']],
    ['tenant', [summary.tenantId ?? '(no tid claim)']],
    ['client app', [summary.clientApp ?? '(no azp or appid claim)']],
    ['lifetime', [lifetime.description]],
    [summary.kind === 'app-only' ? 'app permissions' : 'scopes', summary.kind === 'app-only' ? [...token.roles] : [...token.scopes]],
  ];
  if (summary.kind === 'delegated') rows.push(['app roles', [...token.roles]], ...stepUpRows(token.claims));
  if (summary.forMicrosoftGraph) rows.push(['note', ['issued for Microsoft Graph: only Graph can verify it']]);
  return rows.map(([name, values]) => [name, values.map((value) => printable(value))]);
}

function verdictLines(verdict: Verdict, token: TokenInspection | undefined): string[] {
  switch (verdict.status) {
    case 'valid': {
      const p = verdict.principal;
      const rows: Array<[string, string[]]> = [
        ['caller', [p.appOnly ? `application ${p.clientId}` : [p.username, p.name && `(${p.name})`].filter(Boolean).join(' ') || p.oid]],
        ['oid', [p.oid]],
        ['tenant', [p.tid]],
        ['client app', [p.clientId]],
        ['version', [p.tokenVersion]],
        ['scopes', [...p.scopes]],
        ['roles', [...p.roles]],
      ];
      if (p.guest) rows.push(['guest', ['yes']]);
      return [
        'Verdict: VALID',
        ...table(rows.map(([name, values]) => [name, values.map((value) => printable(value))])),
        ...(token?.lifetime.expired ? ['  It has expired but is still inside the clock tolerance (default 5 min): the client should refresh it now.'] : []),
        '  AzureAuthGuard accepts this token; @Scopes / @AppPermissions / @Roles of each route still apply.',
      ];
    }
    case 'refused': {
      const rows: Array<[string, string[]]> = [['reason', [verdict.reason]], ['why', [verdict.description]]];
      if (verdict.hint) rows.push(['fix', [verdict.hint]]);
      return [`Verdict: REFUSED (${verdict.reason}; the API answers ${verdict.httpStatus})`, ...table(rows)];
    }
    case 'skipped':
      return ['Verification skipped', `  ${verdict.note}`];
    case 'misconfigured':
      return ['Verification impossible: the configuration is wrong', `  ${printable(verdict.message)}`];
  }
}

/** The report for people: header, claims, a summary, then the verdict. Never the signature: it is not in the report. */
export function formatText(report: DoctorReport): string {
  const lines: string[] = [];
  const { token } = report;
  if (token) {
    lines.push('Header', ...table(Object.entries(token.header).map(([name, value]) => [printable(name), valueLines(value)])), '');
    lines.push('Claims', ...table(claimRows(token)), '');
    lines.push('Summary', ...table(summaryRows(token)), '');
  }
  lines.push(...verdictLines(report.verdict, token));
  return `${lines.join('\n')}\n`;
}

/** The report for scripts (`--json`): the same facts, stable field names. */
export function formatJson(report: DoctorReport, exitCode: number): string {
  return `${JSON.stringify({ token: report.token ?? null, verdict: report.verdict, exitCode }, null, 2)}\n`;
}
