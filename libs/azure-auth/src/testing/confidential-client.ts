import { X509Certificate, createHash, type KeyObject } from 'node:crypto';
import { FEDERATED_TOKEN_AUDIENCE } from './emulator-defaults.js';
import { verifyIssuedToken } from './issued-tokens.js';
import { decodeJwtUnverified, hasValidSignature } from './jwt.js';
import type { KeyStore } from './key-store.js';
import { CLIENT_ASSERTION_TYPE, basicCredentials, jsonError, type SignInAnswer } from './token-answers.js';


/**
 * The credentials of the API's own app registration, as Entra keeps them.
 *
 * @internal
 */
export interface ApiRegistrationSettings {
  /** The API's application (client) id. */
  readonly clientId: string;
  readonly clientSecret: string;
  /** The federated credential trusted: tokens of this issuer, for this subject, with audience `api://AzureADTokenExchange`. */
  readonly federatedIssuer: string;
  readonly federatedSubject: string;
  /** The emulator's keys: they sign federated tokens too. */
  readonly keys: KeyStore;
}

/**
 * How the API proves who it is at the token endpoint, checked as Entra checks a confidential
 * client: its client secret (in the form or `Authorization: Basic`), or a client assertion signed
 * by one of its certificates (`x5t#S256` or `x5t` naming it, audience the token endpoint), or a
 * federated token (workload identity) matching its federated credential. Any other proof, or none,
 * gets Entra's `invalid_client`.
 *
 * @internal
 */
export class ApiRegistration {
  /** Uploaded certificates by their thumbprints as assertions name them: base64url SHA-256 (`x5t#S256`) and SHA-1 (`x5t`). */
  private readonly certificates = new Map<string, KeyObject>();

  constructor(private readonly settings: ApiRegistrationSettings) {}

  get clientId(): string {
    return this.settings.clientId;
  }

  /** Registers a certificate as a credential of the API, as uploading it in the portal does. */
  addCertificate(certificatePem: string): void {
    const certificate = new X509Certificate(certificatePem);
    for (const algorithm of ['sha256', 'sha1']) {
      this.certificates.set(createHash(algorithm).update(certificate.raw).digest('base64url'), certificate.publicKey);
    }
  }

  /** Whether `clientId` is the API itself (GUIDs compare without case). */
  isApi(clientId: string | null | undefined): boolean {
    return clientId?.toLowerCase() === this.settings.clientId.toLowerCase();
  }

  /**
   * `undefined` when the request proves it comes from the API, otherwise Entra's answer.
   * `tokenEndpoint`: the URL the request was posted to, without query (the audience of certificate assertions).
   */
  authenticate(form: URLSearchParams, authorization: string | undefined, tokenEndpoint: string): SignInAnswer | undefined {
    const secret = form.get('client_secret') ?? basicCredentials(authorization)?.secret;
    const assertion = form.get('client_assertion');
    if (secret) {
      return secret === this.settings.clientSecret
        ? undefined
        : jsonError(
            401,
            'invalid_client',
            `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${this.settings.clientId}'.`,
            7000215,
          );
    }
    if (!assertion) {
      return jsonError(401, 'invalid_client', "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.", 7000218);
    }
    if (form.get('client_assertion_type') !== CLIENT_ASSERTION_TYPE) {
      return jsonError(400, 'invalid_request', `client_assertion_type must be ${CLIENT_ASSERTION_TYPE}.`, 70002);
    }
    let header: Record<string, unknown>;
    let payload: Record<string, unknown>;
    try {
      ({ header, payload } = decodeJwtUnverified(assertion));
    } catch {
      return jsonError(401, 'invalid_client', 'The client assertion is not a JWT.', 50027);
    }
    return payload.iss === this.settings.federatedIssuer ? this.checkFederatedToken(assertion, payload) : this.checkCertificateAssertion(assertion, header, payload, tokenEndpoint);
  }

  private checkCertificateAssertion(assertion: string, header: Record<string, unknown>, payload: Record<string, unknown>, tokenEndpoint: string): SignInAnswer | undefined {
    const thumbprint = header['x5t#S256'] ?? header.x5t;
    const publicKey = typeof thumbprint === 'string' ? this.certificates.get(thumbprint) : undefined;
    if (publicKey === undefined) {
      return jsonError(401, 'invalid_client', `The certificate with identifier used to sign the client assertion is not registered on application '${this.settings.clientId}'.`, 700027);
    }
    if (!hasValidSignature(assertion, publicKey)) {
      return jsonError(401, 'invalid_client', 'Client assertion failed signature validation.', 700027);
    }
    if (!this.isApi(payload.iss as string) || !this.isApi(payload.sub as string)) {
      return jsonError(401, 'invalid_client', "The client assertion's iss and sub must be the application's client id.", 700023);
    }
    if (payload.aud !== tokenEndpoint) {
      return jsonError(401, 'invalid_client', `The audience of the client assertion must be the token endpoint, ${tokenEndpoint}.`, 700016);
    }
    return withinLifetime(payload) ? undefined : jsonError(401, 'invalid_client', 'Client assertion is not within its valid time range.', 700024);
  }

  private checkFederatedToken(assertion: string, payload: Record<string, unknown>): SignInAnswer | undefined {
    const verified = verifyIssuedToken(assertion, this.settings.keys);
    if ('problem' in verified) {
      return verified.problem === 'expired' || verified.problem === 'not_yet_valid'
        ? jsonError(401, 'invalid_client', 'Client assertion is not within its valid time range.', 700024)
        : jsonError(401, 'invalid_client', 'The federated token failed signature validation against the keys of its issuer.', 700027);
    }
    const audiences = ([] as unknown[]).concat(payload.aud);
    if (!audiences.includes(FEDERATED_TOKEN_AUDIENCE)) {
      return jsonError(401, 'invalid_client', `No matching federated identity record found for presented assertion audience; it must be ${FEDERATED_TOKEN_AUDIENCE}.`, 700212);
    }
    if (payload.sub !== this.settings.federatedSubject) {
      return jsonError(401, 'invalid_client', `No matching federated identity record found for presented assertion subject '${String(payload.sub)}'.`, 70021);
    }
    return undefined;
  }
}

function withinLifetime(payload: Record<string, unknown>): boolean {
  const now = Date.now() / 1000;
  return typeof payload.exp === 'number' && payload.exp > now && (typeof payload.nbf !== 'number' || payload.nbf <= now + 300);
}
