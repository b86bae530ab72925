import { mintToken, type AuthConfig } from '../auth/index.js';

/** The lifetime of the explorer's token: the `canopy token` default. */
export const DEV_TOKEN_TTL_SECONDS = 12 * 3600;

/**
 * Mints the token the explorer prefills (development mode): signed with the
 * server's own HS256 secret, for `userId`. Undefined with a JWKS: tokens
 * then come from the identity provider only.
 */
export function devTokenMinter(auth: AuthConfig, userId: string): (() => Promise<string>) | undefined {
  if (auth.kind !== 'hs256') return undefined;
  return () => mintToken({ secret: auth.secret, userId, ttlSeconds: DEV_TOKEN_TTL_SECONDS, issuer: auth.issuer, audience: auth.audience });
}
