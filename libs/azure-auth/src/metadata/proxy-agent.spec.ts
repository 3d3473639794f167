import { Agent } from 'node:http';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { agentFor } from './proxy-agent.js';

const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy', 'NO_PROXY', 'no_proxy'];

describe('agentFor', () => {
  const saved: Record<string, string | undefined> = {};
  beforeEach(() => {
    for (const name of PROXY_VARIABLES) {
      saved[name] = process.env[name];
      delete process.env[name];
    }
  });
  afterEach(() => {
    for (const name of PROXY_VARIABLES) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  it('uses no agent without proxy variables', () => {
    expect(agentFor('https://login.microsoftonline.com/x', undefined)).toBeUndefined();
  });

  it('prefers the agent given in the options', () => {
    process.env.HTTPS_PROXY = 'http://proxy.corp:3128';
    const explicit = new Agent();
    expect(agentFor('https://login.microsoftonline.com/x', explicit)).toBe(explicit);
  });

  it('routes https through HTTPS_PROXY and http through HTTP_PROXY, sharing one agent per proxy', () => {
    process.env.HTTPS_PROXY = 'http://proxy.corp:3128';
    process.env.HTTP_PROXY = 'http://proxy.corp:3129';
    const https = agentFor('https://login.microsoftonline.com/a', undefined);
    expect(https).toBeInstanceOf(HttpsProxyAgent);
    expect((https as HttpsProxyAgent<string>).proxy.port).toBe('3128');
    expect(agentFor('https://login.microsoftonline.com/b', undefined)).toBe(https);
    const http = agentFor('http://authority.example:8080/a', undefined);
    expect(http).toBeInstanceOf(HttpProxyAgent);
    expect((http as HttpProxyAgent<string>).proxy.port).toBe('3129');
  });

  it('never proxies a loopback authority', () => {
    process.env.HTTP_PROXY = 'http://proxy.corp:3129';
    for (const url of ['http://127.0.0.1:8080/a', 'http://localhost:8080/a', 'http://[::1]:8080/a']) {
      expect(agentFor(url, undefined)).toBeUndefined();
    }
  });

  it('leaves hosts listed in NO_PROXY alone', () => {
    process.env.HTTPS_PROXY = 'http://proxy.corp:3128';
    process.env.NO_PROXY = '.microsoftonline.com,localhost';
    expect(agentFor('https://login.microsoftonline.com/a', undefined)).toBeUndefined();
    expect(agentFor('https://login.microsoftonline.us/a', undefined)).toBeInstanceOf(HttpsProxyAgent);
  });
});
