import { generateKeyPair, type KeyObject } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import type { LoggerService } from '@nestjs/common';
import { AzureAuthError } from '../errors/azure-auth.error.js';
import { FAILURE_BACKOFF_MS, JwksKeySet, type JwksKeySetConfig } from './jwks-key-set.js';

const generateRsa = promisify(generateKeyPair);

interface TestKey {
  readonly kid: string;
  readonly publicKey: KeyObject;
}

type Jwk = Record<string, unknown>;

function jwkOf(key: TestKey, extra: Jwk = {}): Jwk {
  return { ...key.publicKey.export({ format: 'jwk' }), kid: key.kid, use: 'sig', alg: 'RS256', ...extra };
}

async function rsaKey(kid: string, modulusLength = 2048): Promise<TestKey> {
  const { publicKey } = await generateRsa('rsa', { modulusLength });
  return { kid, publicKey };
}

/** What the tiny JWKS server answers; tests change it between requests. */
interface ServerState {
  status: number;
  body: unknown;
  /** Hold the request without answering (until the connection is closed). */
  hang: boolean;
  requests: number;
}

interface JwksServer {
  readonly server: http.Server;
  readonly url: string;
  readonly state: ServerState;
  close(): Promise<void>;
}

async function startServer(): Promise<JwksServer> {
  const state: ServerState = { status: 200, body: { keys: [] }, hang: false, requests: 0 };
  const server = http.createServer((request: IncomingMessage, response: ServerResponse) => {
    state.requests++;
    if (state.hang) return;
    // No keep-alive: a pooled socket closed by one test's cleanup must not be reused by the next.
    response.writeHead(state.status, { 'content-type': 'application/json', connection: 'close' });
    response.end(typeof state.body === 'string' ? state.body : JSON.stringify(state.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}/common/discovery/v2.0/keys`,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface CapturingLogger extends LoggerService {
  readonly warnings: string[];
}

function logger(): CapturingLogger {
  const warnings: string[] = [];
  return { warnings, log() {}, warn: (message: unknown) => void warnings.push(String(message)), error() {}, debug() {}, verbose() {} };
}

const baseConfig: JwksKeySetConfig = {
  timeoutMs: 2_000,
  maxAgeMs: 86_400_000,
  unknownKeyRefreshIntervalMs: 60_000,
  retryAfterSeconds: 7,
};

async function rejection(promise: Promise<unknown>): Promise<AzureAuthError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AzureAuthError);
    return error as AzureAuthError;
  }
  throw new Error('expected an AzureAuthError, the promise resolved');
}

let k1: TestKey;
let k2: TestKey;
let k3: TestKey;
let weak: TestKey;
let ecPublic: KeyObject;
let jwks: JwksServer;

beforeAll(async () => {
  [k1, k2, k3, weak] = await Promise.all([rsaKey('kid-1'), rsaKey('kid-2'), rsaKey('kid-3'), rsaKey('kid-weak', 1024)]);
  ({ publicKey: ecPublic } = await promisify(generateKeyPair)('ec', { namedCurve: 'P-256' }));
  jwks = await startServer();
});

afterAll(async () => {
  await jwks.close();
});

beforeEach(() => {
  jwks.state.status = 200;
  jwks.state.hang = false;
  jwks.state.requests = 0;
  jwks.state.body = { keys: [jwkOf(k1), jwkOf(k2)] };
});

afterEach(() => {
  // Drop connections a test left hanging.
  jwks.server.closeAllConnections();
});

describe('JwksKeySet', () => {
  it('loads once and then serves keys from memory', async () => {
    const keys = new JwksKeySet(jwks.url, baseConfig, logger());
    expect(keys.loaded).toBe(false);
    const key = await keys.get('kid-1');
    expect(key.kid).toBe('kid-1');
    expect(key.publicKey.export({ format: 'jwk' })).toEqual(k1.publicKey.export({ format: 'jwk' }));
    for (let i = 0; i < 20; i++) {
      expect((await keys.get(i % 2 ? 'kid-1' : 'kid-2')).kid).toBe(i % 2 ? 'kid-1' : 'kid-2');
    }
    expect(keys.peek('kid-2')?.kid).toBe('kid-2');
    expect(keys.loaded).toBe(true);
    expect(keys.size).toBe(2);
    expect(jwks.state.requests).toBe(1);
    expect(keys.fetches).toBe(1);
  });

  it('shares one fetch between 50 concurrent first uses', async () => {
    const keys = new JwksKeySet(jwks.url, baseConfig, logger());
    const found = await Promise.all(Array.from({ length: 50 }, (_, i) => keys.get(i % 2 ? 'kid-1' : 'kid-2')));
    expect(found.map((key) => key.kid)).toEqual(Array.from({ length: 50 }, (_, i) => (i % 2 ? 'kid-1' : 'kid-2')));
    expect(jwks.state.requests).toBe(1);
  });

  it('keeps the issuer of v2 keys and leaves it undefined for v1 keys', async () => {
    jwks.state.body = { keys: [jwkOf(k1, { issuer: 'https://login.microsoftonline.com/{tenantid}/v2.0' }), jwkOf(k2)] };
    const keys = new JwksKeySet(jwks.url, baseConfig, logger());
    expect((await keys.get('kid-1')).issuer).toBe('https://login.microsoftonline.com/{tenantid}/v2.0');
    expect((await keys.get('kid-2')).issuer).toBeUndefined();
  });

  it('refreshes once on an unknown kid, then refuses further unknown kids within the interval without fetching', async () => {
    const keys = new JwksKeySet(jwks.url, baseConfig, logger());
    await keys.get('kid-1');
    expect(jwks.state.requests).toBe(1);

    expect((await rejection(keys.get('kid-unknown-a'))).reason).toBe('signing_key_not_found');
    expect(jwks.state.requests).toBe(2);

    const second = await rejection(keys.get('kid-unknown-b'));
    expect(second.reason).toBe('signing_key_not_found');
    expect(second.status).toBe(401);
    expect(jwks.state.requests).toBe(2);
    // Known keys are unaffected.
    expect((await keys.get('kid-2')).kid).toBe('kid-2');
    expect(jwks.state.requests).toBe(2);
  });

  it('lets concurrent requests for a newly rotated-in kid share one refresh (none refused)', async () => {
    const keys = new JwksKeySet(jwks.url, baseConfig, logger());
    await keys.get('kid-1');
    jwks.state.body = { keys: [jwkOf(k1), jwkOf(k2), jwkOf(k3)] };
    const found = await Promise.all(Array.from({ length: 5 }, () => keys.get('kid-3')));
    expect(found.map((key) => key.kid)).toEqual(Array(5).fill('kid-3'));
    expect(jwks.state.requests).toBe(2);
  });

  it('fetches nothing once closed (the app shut down)', async () => {
    const keys = new JwksKeySet(jwks.url, baseConfig, logger());
    keys.close();
    await expect(keys.refresh('warm-up')).rejects.toThrow('closed');
    expect((await rejection(keys.get('kid-1'))).reason).toBe('keys_unavailable');
    expect(jwks.state.requests).toBe(0);
  });

  it('allows another unknown-kid refresh once the interval has passed', async () => {
    let clock = 1_000_000;
    const keys = new JwksKeySet(jwks.url, { ...baseConfig, now: () => clock }, logger());
    await keys.get('kid-1');
    await rejection(keys.get('kid-x'));
    await rejection(keys.get('kid-y'));
    expect(jwks.state.requests).toBe(2);
    clock += 60_001;
    jwks.state.body = { keys: [jwkOf(k1), jwkOf(k3)] };
    expect((await keys.get('kid-3')).kid).toBe('kid-3');
    expect(jwks.state.requests).toBe(3);
  });

  it('finds a rotated-in key after a refresh and reports the removed kids', async () => {
    const removed: string[][] = [];
    const keys = new JwksKeySet(jwks.url, { ...baseConfig, onKeysRemoved: (kids) => void removed.push([...kids]) }, logger());
    await keys.get('kid-1');
    expect(removed).toEqual([]);

    jwks.state.body = { keys: [jwkOf(k2), jwkOf(k3)] };
    expect((await keys.get('kid-3')).kid).toBe('kid-3');
    expect(jwks.state.requests).toBe(2);
    expect(removed).toEqual([['kid-1']]);
    expect(keys.peek('kid-1')).toBeUndefined();
    expect((await rejection(keys.get('kid-1'))).reason).toBe('signing_key_not_found');
    expect(jwks.state.requests).toBe(2);
  });

  it('answers keys_unavailable (503) when the first load gets HTTP 500', async () => {
    jwks.state.status = 500;
    jwks.state.body = { error: 'boom' };
    const log = logger();
    let clock = 5_000_000;
    const keys = new JwksKeySet(jwks.url, { ...baseConfig, now: () => clock }, log);
    const error = await rejection(keys.get('kid-1'));
    expect(error.reason).toBe('keys_unavailable');
    expect(error.status).toBe(503);
    expect(error.retryAfterSeconds).toBe(7);
    expect(keys.loaded).toBe(false);
    expect(log.warnings.length).toBeGreaterThan(0);

    // Right after a failure the outage is not hammered: no fetch, still 503.
    jwks.state.status = 200;
    jwks.state.body = { keys: [jwkOf(k1)] };
    const fetchesAfterFailure = jwks.state.requests;
    expect((await rejection(keys.get('kid-1'))).reason).toBe('keys_unavailable');
    expect(jwks.state.requests).toBe(fetchesAfterFailure);

    // Once the back-off has passed and the server recovered, the next use loads the set.
    clock += FAILURE_BACKOFF_MS + 1;
    expect((await keys.get('kid-1')).kid).toBe('kid-1');
  });

  it.each([
    ['a body that is not JSON', 'not json'],
    ['a document without keys', { nothing: true }],
    ['JSON null', 'null'],
  ])('answers keys_unavailable for %s', async (_name, body) => {
    jwks.state.body = body;
    const keys = new JwksKeySet(jwks.url, baseConfig, logger());
    expect((await rejection(keys.get('kid-1'))).reason).toBe('keys_unavailable');
  });

  it('keeps serving known keys when the authority goes down after the load', async () => {
    const own = await startServer();
    own.state.body = { keys: [jwkOf(k1), jwkOf(k2)] };
    const log = logger();
    const keys = new JwksKeySet(own.url, { ...baseConfig, timeoutMs: 500 }, log);
    try {
      expect((await keys.get('kid-1')).kid).toBe('kid-1');
      await own.close();

      expect((await keys.get('kid-1')).kid).toBe('kid-1');
      expect((await keys.get('kid-2')).kid).toBe('kid-2');
      await expect(keys.refresh('manual')).rejects.toThrow();
      expect(keys.size).toBe(2);
      expect((await keys.get('kid-1')).kid).toBe('kid-1');
      expect(log.warnings.some((message) => message.includes('keeping the last good key set'))).toBe(true);

      // An unknown kid while the authority is down: its refresh fails, so "cannot tell now".
      expect((await rejection(keys.get('kid-3'))).reason).toBe('keys_unavailable');
    } finally {
      if (own.server.listening) await own.close();
    }
  });

  it('keeps the last good set when a refresh gets HTTP 500', async () => {
    const keys = new JwksKeySet(jwks.url, baseConfig, logger());
    await keys.get('kid-1');
    jwks.state.status = 500;
    expect((await rejection(keys.get('kid-3'))).reason).toBe('keys_unavailable');
    // Within the interval, a failed last refresh still means "unavailable", not "not found".
    expect((await rejection(keys.get('kid-4'))).reason).toBe('keys_unavailable');
    expect(jwks.state.requests).toBe(2);
    expect((await keys.get('kid-2')).kid).toBe('kid-2');
  });

  it('ignores keys that are not RSA, not for signatures, not RS256 or shorter than 2048 bits', async () => {
    jwks.state.body = {
      keys: [
        { ...ecPublic.export({ format: 'jwk' }), kid: 'kid-ec', use: 'sig' },
        jwkOf(k2, { kid: 'kid-enc', use: 'enc' }),
        jwkOf(k3, { kid: 'kid-rs512', alg: 'RS512' }),
        jwkOf(weak),
        jwkOf(k2, { kid: 42 }),
        { kty: 'RSA', kid: 'kid-no-n', e: 'AQAB' },
        { kty: 'RSA', kid: 'kid-bad-n', n: '!!!', e: 'AQAB' },
        jwkOf(k1),
      ],
    };
    const keys = new JwksKeySet(jwks.url, { ...baseConfig, unknownKeyRefreshIntervalMs: 0 }, logger());
    expect((await keys.get('kid-1')).kid).toBe('kid-1');
    expect(keys.size).toBe(1);
    for (const kid of ['kid-ec', 'kid-enc', 'kid-rs512', 'kid-weak', 'kid-no-n', 'kid-bad-n']) {
      expect((await rejection(keys.get(kid))).reason).toBe('signing_key_not_found');
    }
  });

  it('accepts keys without use and alg (Entra publishes use only)', async () => {
    const bare = { ...k1.publicKey.export({ format: 'jwk' }), kid: 'kid-1' };
    jwks.state.body = { keys: [bare] };
    const keys = new JwksKeySet(jwks.url, baseConfig, logger());
    expect((await keys.get('kid-1')).kid).toBe('kid-1');
  });

  it('refuses a set holding no usable key as keys_unavailable', async () => {
    jwks.state.body = { keys: [jwkOf(weak), jwkOf(k1, { use: 'enc' })] };
    const keys = new JwksKeySet(jwks.url, baseConfig, logger());
    expect((await rejection(keys.get('kid-weak'))).reason).toBe('keys_unavailable');
    expect(keys.loaded).toBe(false);
  });

  it('gives up on a server slower than timeoutMs', async () => {
    jwks.state.hang = true;
    const keys = new JwksKeySet(jwks.url, { ...baseConfig, timeoutMs: 150 }, logger());
    const started = Date.now();
    const error = await rejection(keys.get('kid-1'));
    const elapsed = Date.now() - started;
    expect(error.reason).toBe('keys_unavailable');
    expect(elapsed).toBeGreaterThanOrEqual(100);
    expect(elapsed).toBeLessThan(150 + 400);
    expect(jwks.state.requests).toBe(1);
  });

  it('refreshes a stale set in the background while serving the known key', async () => {
    let clock = 1_000_000;
    const keys = new JwksKeySet(jwks.url, { ...baseConfig, maxAgeMs: 1_000, now: () => clock }, logger());
    await keys.get('kid-1');
    expect(keys.ageMs).toBe(0);
    clock += 1_001;
    jwks.state.body = { keys: [jwkOf(k1), jwkOf(k3)] };
    expect(keys.peek('kid-1')?.kid).toBe('kid-1');
    // The background refresh started at once; the caller did not wait for it.
    expect(keys.fetches).toBe(2);
    expect(keys.peek('kid-3')).toBeUndefined();
    await keys.refresh('test'); // joins the background refresh (single flight)
    expect(jwks.state.requests).toBe(2);
    expect(keys.peek('kid-3')?.kid).toBe('kid-3');
  });
});
