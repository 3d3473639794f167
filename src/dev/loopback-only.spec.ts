import type { IncomingMessage, ServerResponse } from 'node:http';
import { loopbackOnly } from './loopback-only.js';

/** Runs the middleware for one request; says whether it passed the request on or answered 404. */
function outcome(url: string, remoteAddress: string | undefined): 'next' | 404 {
  let result: 'next' | 404 | undefined;
  const response = { statusCode: 200, end: () => (result = response.statusCode as 404) };
  loopbackOnly('docs')({ url, socket: { remoteAddress } } as IncomingMessage, response as unknown as ServerResponse, () => (result = 'next'));
  if (result === undefined) throw new Error('the middleware neither answered nor passed the request on');
  return result;
}

const SWAGGER = ['/docs', '/docs/', '/docs-json', '/docs-yaml', '/docs/swagger-ui-init.js', '/DOCS-JSON', '//docs-json', '/%64ocs-json', '/docs-json?format=1'];

describe('loopbackOnly', () => {
  it.each(['127.0.0.1', '::1', '::ffff:127.0.0.1'])('serves Swagger to a peer on this machine (%s)', (peer) => {
    for (const url of SWAGGER) expect({ url, answer: outcome(url, peer) }).toEqual({ url, answer: 'next' });
  });

  it.each(['192.0.2.2', '::ffff:192.0.2.2', 'fd00::2', undefined])('answers 404 for every spelling of Swagger to a peer beyond loopback (%s)', (peer) => {
    for (const url of SWAGGER) expect({ url, answer: outcome(url, peer) }).toEqual({ url, answer: 404 });
  });

  it('answers 404 to a path it cannot decode rather than guess what a router would make of it', () => {
    expect(outcome('/%E0%A4%A', '192.0.2.2')).toBe(404);
  });

  it('passes every other route on, for every peer', () => {
    for (const url of ['/health', '/api/me', '/api/todolist?docs=1', '/']) expect({ url, answer: outcome(url, '192.0.2.2') }).toEqual({ url, answer: 'next' });
  });
});
