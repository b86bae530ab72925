export {
  AuthConfigError,
  authSettingsFromEnv,
  DEFAULT_AUDIENCE,
  DEFAULT_DATA_DIR,
  DEFAULT_ISSUER,
  DEV_SECRET_FILE,
  MIN_SECRET_BYTES,
  resolveAuthConfig,
  type AuthConfig,
  type AuthSettings,
} from './auth-config.js';
export {
  AuthFailure,
  createAuthenticator,
  HS256_ALGORITHMS,
  JWKS_ALGORITHMS,
  type Authenticator,
  type AuthenticatorOptions,
  type Caller,
} from './authenticator.js';
export { mintToken, type MintOptions } from './mint.js';
export { MAX_TTL_SECONDS, parseTtl } from './ttl.js';
