import { inspect } from 'node:util';
import type { INestApplication, LoggerService } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { AzureAuthModule, type AzureAuthReason } from 'nestjs-azure-auth';
import { EntraEmulator } from 'nestjs-azure-auth/testing';
import { HOSTILE_CASES, createHostileContext, startCountingServer } from './support/hostile-cases.js';
import { b64url, hs256WithPublicKey, parts, withPayload } from './support/jwt-craft.js';
import { ADAPTERS, ProbeController, call, emulatorOptions, type Adapter } from './support/test-app.js';

/** Keeps every line logged at every level, so the test sees exactly what an operator's log would hold. */
class RecordingLogger implements LoggerService {
  readonly lines: { level: string; text: string }[] = [];

  private record(level: string, message: unknown, params: unknown[]): void {
    const text = [message, ...params].map((part) => (typeof part === 'string' ? part : inspect(part, { depth: 5 }))).join(' ');
    this.lines.push({ level, text });
  }

  log(message: unknown, ...params: unknown[]) {
    this.record('log', message, params);
  }
  error(message: unknown, ...params: unknown[]) {
    this.record('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]) {
    this.record('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]) {
    this.record('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]) {
    this.record('verbose', message, params);
  }
  fatal(message: unknown, ...params: unknown[]) {
    this.record('fatal', message, params);
  }
}

const now = () => Math.floor(Date.now() / 1000);

describe.each(ADAPTERS)('log hygiene over %s', (adapter: Adapter) => {
  let entra: EntraEmulator;
  let app: INestApplication;
  let url: string;
  let attacker: Awaited<ReturnType<typeof startCountingServer>>;
  const recorder = new RecordingLogger();
  /** Every token sent in the battery, whatever its fate. */
  const sent: string[] = [];
  /** What each request of the battery got back. */
  const answers: { name: string; status: number; reason: string | undefined }[] = [];

  async function send(name: string, token: string, path = '/api/me', init: { query?: boolean } = {}) {
    sent.push(token);
    const answer = init.query
      ? await call(`${url}${path}?access_token=${encodeURIComponent(token)}`)
      : await call(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    answers.push({ name, status: answer.status, reason: answer.body?.reason });
  }

  beforeAll(async () => {
    entra = await EntraEmulator.start();
    const moduleRef = await Test.createTestingModule({
      // An unknown kid refreshes every time here, so that the keys fault below is met with a 503.
      imports: [AzureAuthModule.forRoot(emulatorOptions(entra, { unknownKeyRefreshIntervalSeconds: 0 }))],
      controllers: [ProbeController],
    })
      .setLogger(recorder)
      .compile();
    app =
      adapter === 'fastify'
        ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: recorder })
        : moduleRef.createNestApplication({ logger: recorder });
    app.useLogger(recorder);
    await app.listen(0, '127.0.0.1');
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1');

    const valid = entra.mintAccessToken({ scopes: ['Todolist.Read'] });
    await send('valid', valid);
    await send('valid again (verified-token cache)', valid);
    await send('valid v1', entra.mintAccessToken({ version: 1, scopes: ['Todolist.Read'] }));
    await send('valid but without the scope of the route', entra.mintAccessToken({ scopes: ['Other.Scope'] }), '/api/todolist');
    await send('expired', entra.mintAccessToken({ scopes: ['Todolist.Read'], issuedAt: now() - 7200, expiresInSeconds: 3600 }));
    await send('not yet valid', entra.mintAccessToken({ scopes: ['Todolist.Read'], notBefore: now() + 3600 }));
    await send('wrong audience', entra.mintAccessToken({ scopes: ['Todolist.Read'], audience: 'api://another-app' }));
    await send('wrong issuer', entra.mintAccessToken({ scopes: ['Todolist.Read'], issuer: 'https://evil.example.com/v2.0' }));
    await send('bad signature', withPayload(entra.mintAccessToken({ scopes: ['Todolist.Read'] }), (p) => ({ ...p, scp: 'Todolist.ReadWrite' })));
    await send('graph token', entra.mintAccessToken({ scopes: ['User.Read'], audience: '00000003-0000-0000-c000-000000000000', header: { nonce: 'n0nce' } }));
    const { header, payload, segments } = parts(entra.mintAccessToken({ scopes: ['Todolist.Read'] }));
    await send('malformed: signature dropped', `${segments[0]}.${segments[1]}`);
    await send('malformed: payload not base64url', `${segments[0]}.${segments[1]}=.${segments[2]}`);
    await send('alg none', `${b64url({ ...header, alg: 'none' })}.${b64url(payload)}.${segments[2]}`);
    await send('HS256 forgery', hs256WithPublicKey(header, payload, entra.createUnpublishedKey().publicKey));
    await send('scp of the wrong type', entra.mintAccessToken({ claims: { scp: ['Todolist.Read'] } }));
    const unpublished = entra.createUnpublishedKey();
    await send('unknown kid', entra.mintAccessToken({ scopes: ['Todolist.Read'], privateKey: unpublished.privateKey }));
    await send('token in the query string only', entra.mintAccessToken({ scopes: ['Todolist.Read'] }), '/api/me', { query: true });

    // The whole attack catalogue too: its answers are checked elsewhere, here only what it leaves in the log.
    attacker = await startCountingServer();
    const context = await createHostileContext(entra, attacker.url);
    for (const hostile of HOSTILE_CASES) {
      const built = hostile.build(context);
      const request = typeof built === 'string' ? { token: built } : built;
      const secret = request.secret ?? request.token;
      if (secret !== undefined) sent.push(secret);
      await call(`${url}${request.path ?? '/api/me'}${request.query ?? ''}`, {
        method: request.method,
        headers: request.token === undefined ? {} : { authorization: `Bearer ${request.token}` },
        body: request.body,
      });
    }
    entra.setFault('keys', { status: 503 });
    await send('keys unavailable', entra.mintAccessToken({ scopes: ['Todolist.Read'], privateKey: entra.createUnpublishedKey().privateKey }));
    entra.setFault('keys', null);
  });
  afterAll(async () => {
    await app?.close();
    await entra?.stop();
    await attacker?.close();
  });

  it('the battery got the answers it was built for', () => {
    expect(answers.map(({ name, status, reason }) => `${name}: ${status} ${reason ?? ''}`.trim())).toEqual([
      'valid: 200',
      'valid again (verified-token cache): 200',
      'valid v1: 200',
      'valid but without the scope of the route: 403 insufficient_permissions',
      'expired: 401 token_expired',
      'not yet valid: 401 token_not_yet_valid',
      'wrong audience: 401 invalid_audience',
      'wrong issuer: 401 invalid_issuer',
      'bad signature: 401 invalid_signature',
      'graph token: 401 graph_token',
      'malformed: signature dropped: 401 malformed_token',
      'malformed: payload not base64url: 401 malformed_token',
      'alg none: 401 unsupported_algorithm',
      'HS256 forgery: 401 unsupported_algorithm',
      'scp of the wrong type: 401 invalid_claims',
      'unknown kid: 401 signing_key_not_found',
      'token in the query string only: 401 token_missing',
      'keys unavailable: 503 keys_unavailable',
    ]);
  });

  it('no log line holds a token, a signature or a claims segment', () => {
    expect(recorder.lines.length).toBeGreaterThan(0);
    // Needle → what it is; a leak is reported by name so that the failure output holds no token either.
    const needles = new Map<string, string>();
    sent.forEach((token, index) => {
      const [, claims, signature] = token.split('.');
      needles.set(token, `token #${index}`);
      // Short pieces could match by chance; every real payload and signature is far longer.
      if (claims && claims.length >= 16) needles.set(claims, `claims of token #${index}`);
      if (signature && signature.length >= 16) needles.set(signature, `signature of token #${index}`);
    });
    const leaks = recorder.lines.flatMap(({ level, text }, line) =>
      [...needles].filter(([needle]) => text.includes(needle)).map(([, what]) => `${level} line ${line} holds the ${what}`),
    );
    expect(leaks).toEqual([]);
    // Nor anything shaped like a JWT, sent or not.
    const jwtShaped = recorder.lines.flatMap(({ level, text }, line) => (/eyJ[\w-]{8,}\.eyJ[\w-]{8,}/.test(text) ? [`${level} line ${line}`] : []));
    expect(jwtShaped).toEqual([]);
  });

  it('the log does tell why each request was refused, with the hint', () => {
    const refused = answers.map(({ reason }) => reason).filter((reason): reason is AzureAuthReason => reason !== undefined);
    expect(refused.length).toBeGreaterThan(10);
    const text = recorder.lines.map((line) => line.text);
    for (const reason of new Set(refused)) {
      expect({ reason, logged: text.some((line) => line.includes(reason)) }).toEqual({ reason, logged: true });
    }
    // The full explanation lives in the log: for a Graph token, which scope to request instead.
    expect(text.find((line) => line.includes('graph_token'))).toMatch(/User\.Read.*api:\/\//);
  });
});
