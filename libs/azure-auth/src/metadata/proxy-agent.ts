import type { Agent } from 'node:http';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';
import proxyFromEnv from 'proxy-from-env';
import { isLoopbackHost } from '../shared/urls.js';

const agents = new Map<string, Agent>();

/**
 * The agent for a fetch of metadata or keys: the one the user gave, else a proxy agent when
 * `HTTPS_PROXY` / `HTTP_PROXY` (or `ALL_PROXY`) applies to the URL and `NO_PROXY` does not exclude
 * it, else none. Proxy agents are shared per proxy so connections are reused.
 */
export function agentFor(url: string, explicit: Agent | undefined): Agent | undefined {
  if (explicit) return explicit;
  // A loopback authority (the local emulator) is never behind a corporate proxy.
  if (isLoopbackHost(new URL(url).hostname)) return undefined;
  const proxy = proxyFromEnv.getProxyForUrl(url);
  if (!proxy) return undefined;
  const https = url.startsWith('https:');
  const key = `${https ? 'https' : 'http'} ${proxy}`;
  let agent = agents.get(key);
  if (!agent) {
    agent = https ? new HttpsProxyAgent(proxy, { keepAlive: true }) : new HttpProxyAgent(proxy, { keepAlive: true });
    agents.set(key, agent);
  }
  return agent;
}
