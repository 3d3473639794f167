import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { getRequestOf, getResponseOf, setResponseHeader, type TransportObject } from './execution-context.js';

function http(request: object, response: object): ExecutionContextHost {
  return new ExecutionContextHost([request, response, () => undefined]);
}

function graphql(context: unknown): ExecutionContextHost {
  const host = new ExecutionContextHost([{ root: true }, { args: true }, context, { fieldName: 'todos' }]);
  host.setType('graphql');
  return host;
}

/** An Express response as far as headers go: `setHeader` from Node, `header` from Express, no `raw`. */
function expressResponse(headersSent = false) {
  const headers: Record<string, string> = {};
  const aliased: Record<string, string> = {};
  return {
    headers,
    aliased,
    headersSent,
    setHeader(name: string, value: string) {
      headers[name] = value;
    },
    header(name: string, value: string) {
      aliased[name] = value;
    },
  };
}

/** A Fastify reply: `header()` on the reply, the Node response under `raw`. */
function fastifyReply() {
  const headers: Record<string, string> = {};
  const raw = expressResponse();
  return {
    headers,
    raw,
    header(name: string, value: string) {
      headers[name] = value;
      return this;
    },
  };
}

describe('getRequestOf / getResponseOf', () => {
  it('HTTP: the first and second handler arguments', () => {
    const request = { headers: {} };
    const response = expressResponse();
    const context = http(request, response);
    expect(getRequestOf(context)).toBe(request);
    expect(getResponseOf(context)).toBe(response);
  });

  it('HTTP on Fastify: the request and the reply object itself (not its raw response)', () => {
    const request = { headers: {}, raw: {} };
    const reply = fastifyReply();
    expect(getRequestOf(http(request, reply))).toBe(request);
    expect(getResponseOf(http(request, reply))).toBe(reply);
  });

  it('GraphQL with Apollo: req and res of the context (third resolver argument)', () => {
    const req = { headers: {} };
    const res = expressResponse();
    const context = graphql({ req, res });
    expect(getRequestOf(context)).toBe(req);
    expect(getResponseOf(context)).toBe(res);
  });

  it("GraphQL with Apollo's default context ({ req } only): no response", () => {
    const req = { headers: {} };
    expect(getRequestOf(graphql({ req }))).toBe(req);
    expect(getResponseOf(graphql({ req }))).toBeUndefined();
  });

  it('GraphQL with Mercurius: reply.request and the reply', () => {
    const request = { headers: {} };
    const reply = { ...fastifyReply(), request };
    const context = graphql({ app: {}, reply });
    expect(getRequestOf(context)).toBe(request);
    expect(getResponseOf(context)).toBe(reply);
  });

  it('GraphQL with a context that names the request "request"', () => {
    const request = { headers: {} };
    expect(getRequestOf(graphql({ request }))).toBe(request);
  });

  it('GraphQL: req wins over the other places', () => {
    const req = { headers: { which: 'req' } };
    expect(getRequestOf(graphql({ req, request: {}, reply: { request: {} } }))).toBe(req);
  });

  it('GraphQL without a usable context: undefined, never a throw', () => {
    for (const context of [undefined, null, {}]) {
      expect(getRequestOf(graphql(context))).toBeUndefined();
      expect(getResponseOf(graphql(context))).toBeUndefined();
    }
    // a reply whose request is missing: no request to authenticate, whatever the reply
    expect(getRequestOf(graphql({ reply: {} }))).toBeUndefined();
  });

  it('GraphQL never mistakes the root value or the arguments for the request', () => {
    const host = new ExecutionContextHost([{ headers: { authorization: 'Bearer root' } }, { headers: {} }, {}, {}]);
    host.setType('graphql');
    expect(getRequestOf(host)).toBeUndefined();
  });
});

describe('setResponseHeader', () => {
  it('Express: setHeader on the response', () => {
    const response = expressResponse();
    setResponseHeader(response as unknown as TransportObject, 'WWW-Authenticate', 'Bearer realm="x"');
    expect(response.headers).toEqual({ 'WWW-Authenticate': 'Bearer realm="x"' });
    expect(response.aliased).toEqual({});
  });

  it('Express: nothing once the headers were sent (setting them then would throw)', () => {
    const response = expressResponse(true);
    expect(() => setResponseHeader(response as unknown as TransportObject, 'WWW-Authenticate', 'Bearer')).not.toThrow();
    expect(response.headers).toEqual({});
  });

  it("Fastify: the reply's header(), so Fastify sends it with the error answer", () => {
    const reply = fastifyReply();
    setResponseHeader(reply as unknown as TransportObject, 'Retry-After', '10');
    expect(reply.headers).toEqual({ 'Retry-After': '10' });
    expect(reply.raw.headers).toEqual({});
  });

  it('Mercurius (a Fastify reply in the GraphQL context)', () => {
    const reply = { ...fastifyReply(), request: { headers: {} } };
    setResponseHeader(getResponseOf(graphql({ reply })), 'WWW-Authenticate', 'Bearer realm="x"');
    expect(reply.headers).toEqual({ 'WWW-Authenticate': 'Bearer realm="x"' });
  });

  it('Apollo over Express (res in the GraphQL context)', () => {
    const res = expressResponse();
    setResponseHeader(getResponseOf(graphql({ req: {}, res })), 'WWW-Authenticate', 'Bearer realm="x"');
    expect(res.headers).toEqual({ 'WWW-Authenticate': 'Bearer realm="x"' });
  });

  it('no response, or an object that is neither: nothing, never a throw', () => {
    expect(() => setResponseHeader(undefined, 'WWW-Authenticate', 'Bearer')).not.toThrow();
    const stranger = { header: 'not a function', setHeader: 42 };
    expect(() => setResponseHeader(stranger as unknown as TransportObject, 'WWW-Authenticate', 'Bearer')).not.toThrow();
    expect(stranger).toEqual({ header: 'not a function', setHeader: 42 });
  });
});
