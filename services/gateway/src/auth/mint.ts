import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';

export interface MintOptions {
  /** The HS256 secret the server verifies with (CANOPY_JWT_SECRET or the development secret). */
  secret: Uint8Array;
  /** Becomes `sub`: the caller's user id. */
  userId: string;
  /** Display name (`name` claim). */
  name?: string | undefined;
  /** `email` claim. */
  email?: string | undefined;
  /** Lifetime in seconds; `exp` = `iat` + ttlSeconds. */
  ttlSeconds: number;
  issuer: string;
  audience: string;
  /** Issue time (tests); default now. */
  now?: Date;
}

/** Signs an HS256 token with sub, iat, exp, iss, aud, a random jti, and name/email when given. */
export async function mintToken(options: MintOptions): Promise<string> {
  const { secret, userId, name, email, ttlSeconds, issuer, audience } = options;
  if (!userId) throw new TypeError('mintToken: userId must not be empty');
  if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) throw new RangeError(`mintToken: ttlSeconds must be a positive integer, got ${ttlSeconds}`);
  const iat = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const claims: Record<string, string> = {};
  if (name) claims['name'] = name;
  if (email) claims['email'] = email;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setIssuer(issuer)
    .setAudience(audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttlSeconds)
    .setJti(randomUUID())
    .sign(secret);
}
