import { BlockList, isIP } from 'node:net';

// A BlockList used as an allow-list: it compares addresses, not spellings, so `0:0:0:0:0:0:0:1` and
// IPv4-mapped peers (`::ffff:127.0.0.1`, as a dual-stack server sees them) count as what they are.
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * Whether a `HOST` value, a bound address or a peer address stays on this machine: `localhost`,
 * 127.0.0.0/8 and ::1, with or without brackets. Anything else, wildcards (`0.0.0.0`, `::`) and
 * other host names included, may face a network.
 */
export function isLoopback(hostOrAddress: string): boolean {
  const bare = hostOrAddress.replace(/^\[(.*)\]$/, '$1');
  if (bare.toLowerCase() === 'localhost') return true;
  const family = isIP(bare);
  return family !== 0 && LOOPBACK.check(bare, family === 4 ? 'ipv4' : 'ipv6');
}
