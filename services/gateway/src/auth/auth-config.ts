import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** How bearer tokens are checked: a shared HS256 secret, or the public keys an identity provider publishes. */
export type AuthConfig =
  | {
      kind: 'hs256';
      secret: Uint8Array;
      /** `env`: CANOPY_JWT_SECRET; `dev-file`: the development secret generated under the data directory. */
      source: 'env' | 'dev-file';
      /** The development secret's file, when `source` is `dev-file`. */
      devFile?: string;
      issuer: string;
      audience: string;
    }
  | { kind: 'jwks'; url: string; issuer: string; audience: string };

/** The settings `resolveAuthConfig` reads, as they come from the environment. */
export interface AuthSettings {
  /** CANOPY_JWT_SECRET */
  jwtSecret?: string | undefined;
  /** CANOPY_JWKS_URL */
  jwksUrl?: string | undefined;
  /** CANOPY_JWT_ISSUER (default `canopy`) */
  issuer: string;
  /** CANOPY_JWT_AUDIENCE (default `canopy`) */
  audience: string;
  /** CANOPY_DATA_DIR (default `.canopy/data`): where the development secret is kept. */
  dataDir: string;
}

export const DEFAULT_DATA_DIR = '.canopy/data';

/**
 * The settings straight from environment variables, with the server's defaults (config.ts validates the same
 * variables with zod; this is for the `canopy` CLI, which must not fail on the server's other settings).
 */
export function authSettingsFromEnv(env: NodeJS.ProcessEnv): AuthSettings {
  return {
    jwtSecret: env['CANOPY_JWT_SECRET'],
    jwksUrl: env['CANOPY_JWKS_URL'],
    issuer: env['CANOPY_JWT_ISSUER'] ?? DEFAULT_ISSUER,
    audience: env['CANOPY_JWT_AUDIENCE'] ?? DEFAULT_AUDIENCE,
    dataDir: env['CANOPY_DATA_DIR'] ?? DEFAULT_DATA_DIR,
  };
}

/** A wrong authentication setting; the message names the variable. */
export class AuthConfigError extends Error {
  override name = 'AuthConfigError';
}

export const DEFAULT_ISSUER = 'canopy';
export const DEFAULT_AUDIENCE = 'canopy';
/** HS256 needs a key at least as long as its hash output (RFC 7518 §3.2). */
export const MIN_SECRET_BYTES = 32;
export const DEV_SECRET_FILE = 'dev-jwt-secret';

/**
 * Decides how tokens are verified: CANOPY_JWT_SECRET (≥ 32 bytes), or CANOPY_JWKS_URL, or — with neither — a
 * development secret generated once in `${dataDir}/dev-jwt-secret` and shared with `canopy token`.
 * Throws an AuthConfigError naming the variable when a setting is wrong.
 */
export async function resolveAuthConfig(settings: AuthSettings): Promise<AuthConfig> {
  const { jwtSecret, jwksUrl, issuer, audience, dataDir } = settings;
  if (!issuer) throw new AuthConfigError('CANOPY_JWT_ISSUER must not be empty.');
  if (!audience) throw new AuthConfigError('CANOPY_JWT_AUDIENCE must not be empty.');
  if (jwtSecret !== undefined && jwksUrl !== undefined) {
    throw new AuthConfigError(
      'CANOPY_JWT_SECRET and CANOPY_JWKS_URL are both set: set CANOPY_JWT_SECRET to verify tokens signed with a shared HS256 secret, or CANOPY_JWKS_URL to verify tokens from an identity provider, not both.',
    );
  }
  if (jwksUrl !== undefined) return { kind: 'jwks', url: checkJwksUrl(jwksUrl), issuer, audience };
  if (jwtSecret !== undefined) {
    const secret = new TextEncoder().encode(jwtSecret);
    if (secret.byteLength < MIN_SECRET_BYTES) {
      throw new AuthConfigError(
        `CANOPY_JWT_SECRET is ${secret.byteLength} bytes long; it must be at least ${MIN_SECRET_BYTES} bytes (UTF-8), e.g. the output of \`openssl rand -base64 32\`.`,
      );
    }
    return { kind: 'hs256', secret, source: 'env', issuer, audience };
  }
  if (!dataDir) throw new AuthConfigError('CANOPY_DATA_DIR must not be empty.');
  const devFile = join(dataDir, DEV_SECRET_FILE);
  return { kind: 'hs256', secret: await readOrCreateDevSecret(devFile), source: 'dev-file', devFile, issuer, audience };
}

function checkJwksUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new AuthConfigError(`CANOPY_JWKS_URL must be an http(s) URL of a JSON Web Key Set; got "${text}".`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new AuthConfigError(`CANOPY_JWKS_URL must be an http(s) URL of a JSON Web Key Set; got the protocol "${url.protocol}".`);
  }
  return url.href;
}

/**
 * The development secret: 32 random bytes, base64url, created once (mode 0600, `wx` so that two processes
 * starting together never overwrite each other's) and read back, so every process uses what is on disk. The
 * secret is the file's text as UTF-8, exactly as if it were given in CANOPY_JWT_SECRET.
 */
async function readOrCreateDevSecret(file: string): Promise<Uint8Array> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  try {
    await writeFile(file, `${randomBytes(32).toString('base64url')}\n`, { flag: 'wx', mode: 0o600 });
    await chmod(file, 0o600); // in case the umask took bits away from the owner
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  // Another process may have created the file a moment ago and still be writing it: wait for it briefly.
  for (let attempt = 0; ; attempt++) {
    const text = (await readFile(file, 'utf8')).trim();
    const secret = new TextEncoder().encode(text);
    if (secret.byteLength >= MIN_SECRET_BYTES) return secret;
    if (attempt >= 20) {
      throw new AuthConfigError(
        `The development secret in ${file} is ${secret.byteLength} bytes long (at least ${MIN_SECRET_BYTES} needed): delete the file to have a new one generated (tokens minted with the old one stop working), or set CANOPY_JWT_SECRET.`,
      );
    }
    await sleep(50);
  }
}
