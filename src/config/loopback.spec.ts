import { isLoopback } from './loopback.js';

describe('isLoopback', () => {
  it.each(['localhost', 'LocalHost', '127.0.0.1', '127.255.0.9', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1'])('counts %s as this machine', (value) => {
    expect(isLoopback(value)).toBe(true);
  });

  it.each(['0.0.0.0', '::', '[::]', '128.0.0.1', '10.0.0.1', '::ffff:10.0.0.1', 'fe80::1', 'localhost.contoso.com', '127.0.0.1.nip.io', '[::1', '', ' 127.0.0.1'])(
    'counts %j as possibly facing a network',
    (value) => {
      expect(isLoopback(value)).toBe(false);
    },
  );
});
