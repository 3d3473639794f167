import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net, { type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { INestApplication } from '@nestjs/common';
import { HttpsProxyAgent } from 'https-proxy-agent';
import type { AzureAuthModuleOptions } from 'nestjs-azure-auth';
import { EntraEmulator } from 'nestjs-azure-auth/testing';
import { call, emulatorOptions, probeApp } from './support/test-app.js';

/** How a request reached the proxy. */
type ProxyMode = 'absolute-form' | 'tunnel' | 'transparent';

interface ProxiedRequest {
  readonly mode: ProxyMode;
  /** Path and query, as the authority sees them. */
  readonly path: string;
}

interface LoopbackProxy {
  readonly url: string;
  readonly port: number;
  readonly log: ProxiedRequest[];
  close(): Promise<void>;
}

const TUNNELLED = Symbol('tunnelled');

/**
 * A tiny forward proxy on loopback that logs every request it carries and forwards it. It speaks
 * the three ways a client can use a proxy: absolute-form requests (`GET http://host/path`, what
 * an HTTP proxy agent sends), CONNECT tunnels (what `HttpsProxyAgent` opens; the plain HTTP inside
 * is parsed by this same server so that tunnelled paths are logged too), and origin-form requests
 * on a connection an agent opened to the proxy in place of the target (forwarded by `Host`).
 */
async function startLoopbackProxy(): Promise<LoopbackProxy> {
  const log: ProxiedRequest[] = [];
  const sockets = new Set<Duplex>();
  const server = http.createServer((request: IncomingMessage, response: ServerResponse) => {
    const absolute = request.url?.startsWith('http://') ?? false;
    const target = absolute ? new URL(request.url!) : new URL(request.url ?? '/', `http://${request.headers.host}`);
    const tunnelled = (request.socket as Socket & { [TUNNELLED]?: boolean })[TUNNELLED] === true;
    const path = `${target.pathname}${target.search}`;
    log.push({ mode: absolute ? 'absolute-form' : tunnelled ? 'tunnel' : 'transparent', path });
    const upstream = http.request(
      { host: target.hostname, port: target.port, path, method: request.method, headers: request.headers, agent: false },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on('error', () => response.destroy());
    request.pipe(upstream);
  });
  server.on('connection', (socket: Duplex) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('connect', (_request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    (socket as Socket & { [TUNNELLED]?: boolean })[TUNNELLED] = true;
    if (head.length > 0) socket.unshift(head);
    server.emit('connection', socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * An agent that connects to the proxy instead of the target and leaves the request as it is: the
 * proxy forwards it by its `Host` header. Only fetches made with this very agent reach the proxy.
 */
class ThroughLoopbackProxyAgent extends http.Agent {
  constructor(private readonly proxyPort: number) {
    super({ keepAlive: false });
  }

  override createConnection(): Duplex {
    return net.connect(this.proxyPort, '127.0.0.1');
  }
}

const sorted = (paths: string[]) => [...paths].sort();

describe('fetches through the httpAgent option', () => {
  let entra: EntraEmulator;
  let proxy: LoopbackProxy;
  let app: INestApplication | undefined;

  beforeEach(async () => {
    entra = await EntraEmulator.start();
    proxy = await startLoopbackProxy();
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await proxy.close();
    await entra.stop();
  });

  async function checkBothVersions(options: Partial<AzureAuthModuleOptions>) {
    const started = await probeApp('express', emulatorOptions(entra, options));
    app = started.app;
    for (const version of [2, 1] as const) {
      const answer = await call(`${started.url}/api/me`, { token: entra.mintAccessToken({ version, scopes: ['Todolist.Read'] }) });
      expect(answer.status).toBe(200);
    }
  }

  it('sends every metadata and key fetch through the agent it is given', async () => {
    await checkBothVersions({ httpAgent: new ThroughLoopbackProxyAgent(proxy.port) });
    // Two metadata documents and the one key set (v2's, which checks tokens of both versions): the metadata fetcher and jwks-rsa both used the agent.
    expect(entra.requestCount('metadata')).toBe(2);
    expect(entra.requestCount('keys')).toBe(1);
    // Nothing reached the authority except through the proxy.
    expect(sorted(proxy.log.map((entry) => entry.path))).toEqual(sorted(entra.requests.map((entry) => entry.path)));
    expect(new Set(proxy.log.map((entry) => entry.mode))).toEqual(new Set(['transparent']));
  });

  it("works with https-proxy-agent's HttpsProxyAgent, which tunnels with CONNECT", async () => {
    await checkBothVersions({ httpAgent: new HttpsProxyAgent(proxy.url) });
    expect(entra.requestCount()).toBe(3);
    expect(sorted(proxy.log.map((entry) => entry.path))).toEqual(sorted(entra.requests.map((entry) => entry.path)));
    expect(new Set(proxy.log.map((entry) => entry.mode))).toEqual(new Set(['tunnel']));
  });
});

describe('proxy from the environment (HTTP_PROXY / NO_PROXY)', () => {
  const PROXY_VARIABLES = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy'];
  let saved: Record<string, string | undefined>;
  let entra: EntraEmulator;
  let proxy: LoopbackProxy;
  let app: INestApplication | undefined;

  beforeEach(async () => {
    saved = Object.fromEntries(PROXY_VARIABLES.map((name) => [name, process.env[name]]));
    for (const name of PROXY_VARIABLES) delete process.env[name];
    entra = await EntraEmulator.start();
    proxy = await startLoopbackProxy();
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await proxy.close();
    await entra.stop();
    for (const name of PROXY_VARIABLES) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  async function checkOneToken(options: Partial<AzureAuthModuleOptions> = {}) {
    const started = await probeApp('express', emulatorOptions(entra, options));
    app = started.app;
    const answer = await call(`${started.url}/api/me`, { token: entra.mintAccessToken({ scopes: ['Todolist.Read'] }) });
    expect(answer.status).toBe(200);
    expect(entra.requestCount('keys')).toBe(1);
  }

  it('never sends a loopback authority (the local emulator) through HTTP_PROXY', async () => {
    process.env.HTTP_PROXY = proxy.url;
    await checkOneToken();
    expect(proxy.log).toEqual([]);
  });

  it('prefers an explicit httpAgent to the environment', async () => {
    const environmentProxy = await startLoopbackProxy();
    try {
      process.env.HTTP_PROXY = environmentProxy.url;
      await checkOneToken({ httpAgent: new ThroughLoopbackProxyAgent(proxy.port) });
      expect(environmentProxy.log).toEqual([]);
      expect(proxy.log).toHaveLength(entra.requestCount());
    } finally {
      await app?.close();
      app = undefined;
      await environmentProxy.close();
    }
  });
});
