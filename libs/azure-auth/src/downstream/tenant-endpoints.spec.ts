import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TenantEndpointsCache } from './tenant-endpoints.js';

const TENANT = '6f1e2c3d-4b5a-4978-8c6d-5e4f3a2b1c0d';

describe('TenantEndpointsCache: where the token endpoint and Microsoft Graph are, from the metadata', () => {
  let server: Server;
  let authorityHost: string;
  let document: Record<string, unknown>;
  let fetches = 0;

  beforeAll(async () => {
    server = createServer((request, response) => {
      fetches++;
      response.writeHead(request.url === `/${TENANT}/v2.0/.well-known/openid-configuration` ? 200 : 404, { 'content-type': 'application/json' });
      response.end(JSON.stringify(document));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    authorityHost = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const metadata = (msgraphHost: unknown) => ({
    token_endpoint: `${authorityHost}/${TENANT}/oauth2/v2.0/token`,
    authorization_endpoint: `${authorityHost}/${TENANT}/oauth2/v2.0/authorize`,
    issuer: `${authorityHost}/${TENANT}/v2.0`,
    jwks_uri: `${authorityHost}/${TENANT}/discovery/v2.0/keys`,
    msgraph_host: msgraphHost,
  });
  const cache = () => new TenantEndpointsCache({ authorityHost, agentFor: () => undefined, timeoutMs: 2000, refreshMs: 60_000 });

  it.each([
    ['the public cloud', 'graph.microsoft.com'],
    ['US Government', 'graph.microsoft.us'],
    ['China (21Vianet)', 'microsoftgraph.chinacloudapi.cn'],
    ['an emulator', '127.0.0.1:8443'],
  ])('%s: Graph at https://{msgraph_host}', async (_cloud, host) => {
    document = metadata(host);
    const endpoints = await cache().get(TENANT);
    expect(endpoints.graphBaseUrl).toBe(`https://${host}`);
    expect(endpoints.authority).toBe(`${authorityHost}/${TENANT}`);
    expect(endpoints.tokenEndpoint).toBe(`${authorityHost}/${TENANT}/oauth2/v2.0/token`);
    expect(JSON.parse(endpoints.authorityMetadata)).toMatchObject({ token_endpoint: endpoints.tokenEndpoint, issuer: `${authorityHost}/${TENANT}/v2.0` });
  });

  it('names no Graph when msgraph_host is missing or not a host name (a path, a URL)', async () => {
    for (const host of [undefined, 'https://graph.microsoft.com', 'graph.microsoft.com/v1.0']) {
      document = metadata(host);
      expect((await cache().get(TENANT)).graphBaseUrl).toBeUndefined();
    }
  });

  it('refuses metadata without a token endpoint, or with an http one beyond loopback', async () => {
    document = { ...metadata('graph.microsoft.com'), token_endpoint: undefined };
    await expect(cache().get(TENANT)).rejects.toThrow(/has no token_endpoint/);
    document = { ...metadata('graph.microsoft.com'), token_endpoint: 'http://login.example.com/t/oauth2/v2.0/token' };
    await expect(cache().get(TENANT)).rejects.toThrow(/must use https/);
  });

  it('reads a tenant once, however many calls ask', async () => {
    document = metadata('graph.microsoft.com');
    const endpoints = cache();
    fetches = 0;
    await Promise.all([endpoints.get(TENANT), endpoints.get(TENANT.toUpperCase()), endpoints.get(TENANT)]);
    await endpoints.get(TENANT);
    expect(fetches).toBe(1);
  });
});
