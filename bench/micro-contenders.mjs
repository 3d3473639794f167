/**
 * The micro benchmark's contenders: each `setup(cleanup)` returns the operation (input) =>
 * result|Promise, throwing or rejecting when the token is refused. Each runs in its own worker
 * thread (`micro-worker.mjs`), so it gets a V8 isolate of its own.
 */
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { createVerifier } from 'fast-jwt';
import { importJWK, jwtVerify } from 'jose';
import jsonwebtoken from 'jsonwebtoken';
import jwksRsa from 'jwks-rsa';
import azureAd from 'passport-azure-ad';
import passportJwt from 'passport-jwt';
import { passportAuthenticator, startModulePath } from './module-path.mjs';
import { startTlsFront } from './tls-front.mjs';

/** The emulator as contenders see it, from its coordinates (plain data that a worker receives). */
export function entraAt(coordinates) {
  return { ...coordinates, v2Issuer: () => coordinates.v2Issuer, v2MetadataUrl: () => coordinates.v2MetadataUrl };
}

/** The limit's operation: the RS256 signature of a token checked with a ready `KeyObject`, nothing else; throws when invalid. */
function rawVerify(keyObject) {
  return (token) => {
    const dot = token.lastIndexOf('.');
    const ok = cryptoVerify('sha256', Buffer.from(token.slice(0, dot)), keyObject, Buffer.from(token.slice(dot + 1), 'base64url'));
    if (!ok) throw new Error('invalid signature');
    return ok;
  };
}

/**
 * The contenders. Each `setup` returns the operation (input) => result|Promise, throwing or
 * rejecting when the token is refused; `inputs` says whether it gets distinct tokens or one
 * repeated token; passport strategies (`takes: 'header'`) get whole `Authorization` header values.
 */
export function contenders(entra) {
  const issuer = entra.v2Issuer();
  const audience = entra.clientId;
  let jwksUri;
  let jwk;
  async function keyMaterial() {
    if (!jwk) {
      const metadata = await (await fetch(entra.v2MetadataUrl())).json();
      jwksUri = metadata.jwks_uri;
      const { keys } = await (await fetch(jwksUri)).json();
      jwk = keys.find((key) => key.kid === entra.signingKid);
    }
    const keyObject = createPublicKey({ key: { kty: jwk.kty, n: jwk.n, e: jwk.e }, format: 'jwk' });
    return { jwk, jwksUri, keyObject, pem: keyObject.export({ type: 'spki', format: 'pem' }) };
  }
  const jsonwebtokenOptions = { algorithms: ['RS256'], audience, issuer };

  return [
    {
      id: 'raw-crypto-verify',
      name: 'raw `crypto.verify` (ready KeyObject) — the limit',
      inputs: 'distinct',
      async setup() {
        return rawVerify((await keyMaterial()).keyObject);
      },
    },
    {
      id: 'jsonwebtoken-pem',
      name: 'jsonwebtoken `verify` (PEM)',
      inputs: 'distinct',
      async setup() {
        const { pem } = await keyMaterial();
        return (token) => jsonwebtoken.verify(token, pem, jsonwebtokenOptions);
      },
    },
    {
      id: 'jsonwebtoken-keyobject',
      name: 'jsonwebtoken `verify` (KeyObject)',
      inputs: 'distinct',
      async setup() {
        const { keyObject } = await keyMaterial();
        return (token) => jsonwebtoken.verify(token, keyObject, jsonwebtokenOptions);
      },
    },
    {
      id: 'jose',
      name: 'jose `jwtVerify` (imported key)',
      inputs: 'distinct',
      async setup() {
        const key = await importJWK((await keyMaterial()).jwk, 'RS256');
        const options = { algorithms: ['RS256'], audience, issuer };
        return (token) => jwtVerify(token, key, options);
      },
    },
    {
      id: 'fast-jwt',
      name: 'fast-jwt verifier (PEM, no cache)',
      inputs: 'distinct',
      async setup() {
        const { pem } = await keyMaterial();
        return createVerifier({ key: pem, algorithms: ['RS256'], allowedAud: audience, allowedIss: issuer });
      },
    },
    {
      id: 'fast-jwt-cache-repeated',
      name: 'fast-jwt verifier with its cache, repeated token',
      inputs: 'repeated',
      async setup() {
        const { pem } = await keyMaterial();
        return createVerifier({ key: pem, algorithms: ['RS256'], allowedAud: audience, allowedIss: issuer, cache: true });
      },
    },
    {
      id: 'passport-jwt-jwks-rsa',
      name: 'passport-jwt + jwks-rsa `passportJwtSecret` (the usual recipe)',
      inputs: 'distinct',
      takes: 'header',
      async setup() {
        await keyMaterial();
        const strategy = new passportJwt.Strategy(
          {
            jwtFromRequest: passportJwt.ExtractJwt.fromAuthHeaderAsBearerToken(),
            secretOrKeyProvider: jwksRsa.passportJwtSecret({ jwksUri, cache: true, rateLimit: true, jwksRequestsPerMinute: 10 }),
            algorithms: ['RS256'],
            audience,
            issuer,
          },
          (payload, done) => done(null, payload),
        );
        return passportAuthenticator(strategy);
      },
    },
    {
      id: 'passport-azure-ad',
      name: 'passport-azure-ad `BearerStrategy`',
      inputs: 'distinct',
      takes: 'header',
      async setup(cleanup) {
        const front = await startTlsFront(entra);
        cleanup.push(front.stop);
        const strategy = new azureAd.BearerStrategy(
          {
            identityMetadata: front.v2MetadataUrl,
            clientID: entra.clientId,
            audience,
            validateIssuer: true,
            issuer,
            loggingLevel: 'error',
            loggingNoPII: true,
          },
          (token, done) => done(null, token),
        );
        return passportAuthenticator(strategy);
      },
    },
    {
      // Diagnostic: passport's own cost per request, around the limit's check alone.
      id: 'passport-raw-verify',
      name: '`passport.authenticate` around raw `crypto.verify`, a strategy doing nothing else (diagnostic)',
      inputs: 'distinct',
      takes: 'header',
      diagnostic: true,
      async setup() {
        const check = rawVerify((await keyMaterial()).keyObject);
        return passportAuthenticator({
          authenticate(request) {
            try {
              check(request.headers.authorization.slice('Bearer '.length));
            } catch (error) {
              return this.fail(error);
            }
            this.success({ verified: true });
          },
        });
      },
    },
    ...[
      ['module-distinct', 'strategy via `passport.authenticate`, distinct tokens (cold cache)', 'distinct', 'authenticate'],
      ['module-repeated', 'strategy via `passport.authenticate`, repeated token (warm cache)', 'repeated', 'authenticate'],
      ['guard-distinct', '`AzureAuthGuard.canActivate`, distinct tokens (cold cache)', 'distinct', 'guard'],
      ['guard-repeated', '`AzureAuthGuard.canActivate`, repeated token (warm cache)', 'repeated', 'guard'],
      // Diagnostic (run only when named in BENCH_MICRO_ONLY): the strategy without passport.
      ['module-strategy-alone', "strategy's own `authenticate` with the action functions passport attaches, without passport (diagnostic)", 'distinct', 'strategyAlone', true],
      // Diagnostic: the strategy's code alone, on one object made once, called directly.
      ['module-strategy-reused', "strategy's own `authenticate` on one object made once, called directly (diagnostic)", 'distinct', 'strategyReused', true],
      // Diagnostic: passport around the module's verifier, without the module's strategy class.
      ['passport-verifier', '`passport.authenticate` around a plain strategy handing the token to the same verifier (diagnostic)', 'distinct', 'verifierThroughPassport', true],
    ].map(([id, what, inputs, path, diagnostic = false]) => ({
      id,
      name: `**nestjs-azure-auth** ${what}`,
      inputs,
      diagnostic,
      takes: 'header',
      // The guard answers at once when it needs no fetch, else with a promise: a promise is awaited
      // (or the rows would count verifications they never waited for), an answer at once is not.
      // The reused strategy answers at once or throws.
      answers: path === 'guard' || path === 'strategyReused' ? 'when-promise' : 'async',
      async setup(cleanup, warmHeader) {
        const modulePath = await startModulePath(entra, warmHeader);
        cleanup.push(modulePath.close);
        return Object.assign(modulePath[path], { cacheSize: () => modulePath.verifier.cache.size });
      },
    })),
  ];
}
