import { bareToken, handshakeToken } from './handshake-token.js';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';

describe('handshakeToken', () => {
  it("reads socket.io's auth.token, bare or as Bearer", () => {
    expect(handshakeToken({ auth: { token: TOKEN } }, false)).toBe(TOKEN);
    expect(handshakeToken({ auth: { token: `Bearer ${TOKEN}` } }, false)).toBe(TOKEN);
  });

  it('reads the Authorization header as HTTP defines it', () => {
    expect(handshakeToken({ headers: { authorization: `bearer ${TOKEN}` } }, false)).toBe(TOKEN);
    expect(handshakeToken({ headers: { authorization: `Basic ${TOKEN}` } }, false)).toBeNull();
  });

  it('reads the token that follows the access_token subprotocol, and only that', () => {
    expect(handshakeToken({ headers: { 'sec-websocket-protocol': `access_token, ${TOKEN}` } }, false)).toBe(TOKEN);
    expect(handshakeToken({ headers: { 'sec-websocket-protocol': `graphql-transport-ws, access_token,${TOKEN}` } }, false)).toBe(TOKEN);
    expect(handshakeToken({ headers: { 'sec-websocket-protocol': `${TOKEN}` } }, false)).toBeNull();
    expect(handshakeToken({ headers: { 'sec-websocket-protocol': 'access_token' } }, false)).toBeNull();
  });

  it('ignores the access_token query parameter unless allowed, then reads it from a parsed query or the URL', () => {
    expect(handshakeToken({ query: { access_token: TOKEN } }, false)).toBeNull();
    expect(handshakeToken({ url: `/probe?access_token=${TOKEN}` }, false)).toBeNull();
    expect(handshakeToken({ query: { access_token: TOKEN } }, true)).toBe(TOKEN);
    expect(handshakeToken({ url: `/probe?x=1&access_token=${TOKEN}` }, true)).toBe(TOKEN);
  });

  it('takes the first place that has a token: auth, header, subprotocol, query', () => {
    const everywhere = {
      auth: { token: 'from-auth' },
      headers: { authorization: 'Bearer from-header', 'sec-websocket-protocol': 'access_token, from-subprotocol' },
      query: { access_token: 'from-query' },
    };
    expect(handshakeToken(everywhere, true)).toBe('from-auth');
    expect(handshakeToken({ ...everywhere, auth: {} }, true)).toBe('from-header');
    expect(handshakeToken({ ...everywhere, auth: {}, headers: { 'sec-websocket-protocol': 'access_token, from-subprotocol' } }, true)).toBe('from-subprotocol');
  });

  it('finds nothing in hostile or empty handshakes, without throwing', () => {
    for (const handshake of [{}, { auth: { token: 42 } }, { auth: { token: '' } }, { auth: { token: 'two words' } }, { headers: { 'sec-websocket-protocol': ['access_token', TOKEN] } }, { url: '%%%' }, { url: '//[' }]) {
      expect(handshakeToken(handshake as never, true)).toBeNull();
    }
  });
});

describe('bareToken', () => {
  it('keeps a bare token, strips a Bearer scheme, refuses what holds whitespace or is not a string', () => {
    expect(bareToken(TOKEN)).toBe(TOKEN);
    expect(bareToken(`Bearer  ${TOKEN} `)).toBe(TOKEN);
    expect(bareToken(`${TOKEN}\n`)).toBeNull();
    expect(bareToken(undefined)).toBeNull();
    expect(bareToken({ token: TOKEN })).toBeNull();
  });
});
