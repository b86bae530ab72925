import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import { LRUCache } from 'lru-cache';
import { CanopyError, ErrorCode } from '@canopy/schema';
import type { AuthConfig } from './auth-config.js';

/** Who is calling, from a verified token. */
export interface Caller {
  /** The token's `sub`. */
  userId: string;
  /** The token's `name` (or `preferred_username`), when it has one. */
  name?: string;
  /** The token's `email`, when it has one. */
  email?: string;
  expiresAt: Date | undefined;
}

export interface Authenticator {
  /** Verifies an `Authorization` header value; resolves with the caller or rejects with an UNAUTHENTICATED CanopyError. */
  authenticate(authorization: string | undefined): Promise<Caller>;
}

export interface AuthenticatorOptions {
  /** Leeway for `exp` and `nbf` against clock skew; default 5 seconds. */
  clockToleranceSeconds?: number;
  /** The current time (tests). */
  now?: () => Date;
  /** How many verified tokens are remembered (least recently used go first); default 10,000; 0 turns the cache off. */
  verifiedTokens?: number;
}

/**
 * How long a token verified against a JWKS key set is trusted without
 * checking its signature again: a key the identity provider withdraws stops
 * being accepted within this time (jose itself re-reads the key set only
 * every few minutes). An HS256 token stays trusted until it expires: its key
 * is this server's own configuration.
 */
export const JWKS_VERIFIED_TOKEN_SECONDS = 60;
const DEFAULT_VERIFIED_TOKENS = 10_000;

/** The stable `details.reason` of an UNAUTHENTICATED error: clients may branch on it. */
export const AuthFailure = {
  /** No Authorization header (or an empty one). */
  MISSING_TOKEN: 'missing_token',
  /** An Authorization header that is not `Bearer <token>`. */
  MALFORMED_HEADER: 'malformed_header',
  /** Not a token this server accepts: undecodable, bad signature, unknown key, or an algorithm it does not allow. */
  INVALID_TOKEN: 'invalid_token',
  /** The token's `exp` has passed. */
  EXPIRED_TOKEN: 'expired_token',
  /** The token's `iss` is not the expected issuer. */
  WRONG_ISSUER: 'wrong_issuer',
  /** The token's `aud` does not include the expected audience. */
  WRONG_AUDIENCE: 'wrong_audience',
  /** The token lacks a claim the server requires (`sub`, `exp`, `iss`, `aud`); `details.claim` names it. */
  MISSING_CLAIM: 'missing_claim',
  /** The identity provider's key set (CANOPY_JWKS_URL) could not be fetched. */
  JWKS_UNAVAILABLE: 'jwks_unavailable',
} as const;
export type AuthFailure = (typeof AuthFailure)[keyof typeof AuthFailure];

/** Algorithms accepted per kind of key; `none` never is. */
export const HS256_ALGORITHMS = ['HS256'];
export const JWKS_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'];

const DEFAULT_CLOCK_TOLERANCE_SECONDS = 5;

/** Raised inside the key resolver when the key set cannot be fetched, to tell it apart from a bad token. */
class JwksUnavailable extends Error {}

export function createAuthenticator(config: AuthConfig, options: AuthenticatorOptions = {}): Authenticator {
  const clockTolerance = options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
  const now = options.now ?? (() => new Date());
  const algorithms = config.kind === 'hs256' ? HS256_ALGORITHMS : JWKS_ALGORITHMS;
  const verify = verifier(config);
  const getToken =
    config.kind === 'hs256'
      ? `mint one with \`npx canopy token --user you@example.com\` (it uses ${config.source === 'env' ? 'CANOPY_JWT_SECRET' : 'the development secret'}, as this server does)`
      : 'get one from your identity provider';
  const fail = (reason: AuthFailure, message: string, extra: Record<string, unknown> = {}, cause?: unknown) =>
    new CanopyError(ErrorCode.UNAUTHENTICATED, message, { reason, ...extra }, cause === undefined ? undefined : { cause });

  // Verifying a signature is the costliest part of a request (WebCrypto runs HMAC and RSA off the main
  // thread); a token seen before is answered from here until it expires or the JWKS window ends.
  const size = options.verifiedTokens ?? DEFAULT_VERIFIED_TOKENS;
  const verified = size > 0 ? new LRUCache<string, { caller: Caller; until: number }>({ max: size }) : undefined;
  const cached = (token: string): Caller | undefined => {
    const entry = verified?.get(token);
    if (entry === undefined) return undefined;
    if (now().getTime() < entry.until) return entry.caller;
    verified!.delete(token);
    return undefined;
  };
  const remember = (token: string, caller: Caller) => {
    if (!verified || caller.expiresAt === undefined) return;
    const expires = caller.expiresAt.getTime();
    verified.set(token, { caller, until: config.kind === 'hs256' ? expires : Math.min(expires, now().getTime() + JWKS_VERIFIED_TOKEN_SECONDS * 1000) });
  };

  return {
    async authenticate(authorization) {
      if (authorization === undefined || authorization.trim() === '') {
        throw fail(AuthFailure.MISSING_TOKEN, `No bearer token: send Authorization: Bearer <token>; ${getToken}.`);
      }
      const match = /^\s*Bearer +(\S+)\s*$/i.exec(authorization);
      if (!match) {
        throw fail(AuthFailure.MALFORMED_HEADER, `The Authorization header is not \`Bearer <token>\`: send Authorization: Bearer <token> (one token, no quotes); ${getToken}.`);
      }
      const token = match[1]!;
      const known = cached(token);
      if (known) return known;
      let payload: JWTPayload;
      try {
        ({ payload } = await verify(token, {
          algorithms,
          issuer: config.issuer,
          audience: config.audience,
          requiredClaims: ['sub', 'exp'],
          clockTolerance,
          currentDate: now(),
        }));
      } catch (error) {
        throw explain(error);
      }
      if (typeof payload.sub !== 'string' || payload.sub === '') {
        throw fail(AuthFailure.MISSING_CLAIM, `The bearer token's subject (\`sub\`) is empty or not a string: ${getToken}.`, { claim: 'sub' });
      }
      const name = stringClaim(payload, 'name') ?? stringClaim(payload, 'preferred_username');
      const email = stringClaim(payload, 'email');
      const caller: Caller = {
        userId: payload.sub,
        ...(name === undefined ? {} : { name }),
        ...(email === undefined ? {} : { email }),
        expiresAt: typeof payload.exp === 'number' ? new Date(payload.exp * 1000) : undefined,
      };
      remember(token, caller);
      return caller;
    },
  };

  function explain(error: unknown): unknown {
    if (error instanceof JwksUnavailable) {
      return fail(
        AuthFailure.JWKS_UNAVAILABLE,
        "The identity provider's signing keys (CANOPY_JWKS_URL) could not be fetched, so no token can be checked: try again shortly; if it persists, the server's operator should check CANOPY_JWKS_URL.",
        {},
        error.cause,
      );
    }
    if (error instanceof errors.JWTExpired) {
      const exp = typeof error.payload['exp'] === 'number' ? ` at ${new Date(error.payload['exp'] * 1000).toISOString()}` : '';
      return fail(AuthFailure.EXPIRED_TOKEN, `The bearer token expired${exp}: ${getToken}.`, {}, error);
    }
    if (error instanceof errors.JWTClaimValidationFailed) {
      if (error.reason === 'missing') {
        const what = error.claim === 'exp' ? 'no expiry (`exp`); tokens that never expire are refused' : `no \`${error.claim}\` claim`;
        return fail(AuthFailure.MISSING_CLAIM, `The bearer token has ${what}: ${getToken}.`, { claim: error.claim }, error);
      }
      if (error.claim === 'iss' && error.reason === 'check_failed') {
        return fail(
          AuthFailure.WRONG_ISSUER,
          `The bearer token was issued by ${quote(error.payload.iss)}, but this server accepts tokens from "${config.issuer}" (CANOPY_JWT_ISSUER): ${getToken}.`,
          {},
          error,
        );
      }
      if (error.claim === 'aud' && error.reason === 'check_failed') {
        return fail(
          AuthFailure.WRONG_AUDIENCE,
          `The bearer token is meant for ${quote(error.payload.aud)}, but this server is "${config.audience}" (CANOPY_JWT_AUDIENCE): ${getToken}.`,
          {},
          error,
        );
      }
      const what = error.claim === 'nbf' ? 'is not valid yet (`nbf` is in the future)' : `has an invalid \`${error.claim}\` claim`;
      return fail(AuthFailure.INVALID_TOKEN, `The bearer token ${what}: ${getToken}.`, {}, error);
    }
    if (error instanceof errors.JOSEError) {
      return fail(
        AuthFailure.INVALID_TOKEN,
        `The bearer token is not valid here (undecodable, signed with another key, or with an algorithm other than ${algorithms.join(', ')}): ${getToken}.`,
        {},
        error,
      );
    }
    return error; // not a verdict on the token but a failure of the server: let it surface as one
  }
}

function verifier(config: AuthConfig): (jwt: string, options: JWTVerifyOptions) => Promise<{ payload: JWTPayload }> {
  if (config.kind === 'hs256') {
    // Imported once: given the raw bytes, jose imports a CryptoKey on every verification.
    const key = crypto.subtle.importKey('raw', config.secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
    return async (jwt, options) => jwtVerify(jwt, await key, options);
  }
  const getKey = jwksKey(config.url);
  return (jwt, options) => jwtVerify(jwt, getKey, options);
}

/** The identity provider's keys, fetched and cached by jose; fetch failures become JwksUnavailable. */
function jwksKey(url: string): JWTVerifyGetKey {
  const jwks = createRemoteJWKSet(new URL(url));
  return async (header, token) => {
    try {
      return await jwks(header, token);
    } catch (error) {
      // No key (or several) for the token's kid/alg: the token is the problem, not the key set.
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) throw error;
      throw new JwksUnavailable('JWKS unavailable', { cause: error });
    }
  };
}

function stringClaim(payload: JWTPayload, claim: string): string | undefined {
  const value = payload[claim];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A claim value for a message, shortened: the token's signature is already checked, but it stays untrusted text. */
function quote(value: unknown): string {
  if (value === undefined) return 'nobody';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
}
