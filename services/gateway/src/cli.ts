#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { AuthConfigError, authSettingsFromEnv, mintToken, parseTtl, resolveAuthConfig } from './auth/index.js';

const USAGE = `Usage: canopy token --user <id> [--name <display name>] [--email <address>] [--ttl <duration>]

Mints a bearer token for the Canopy API and prints it alone on stdout:
  TOKEN=$(npx canopy token --user alice@example.com)
  curl -H "Authorization: Bearer $TOKEN" ...

  --user   the user id (the token's sub)                        required
  --name   display name                                         optional
  --email  e-mail address                                       optional
  --ttl    lifetime: 30m, 12h, 7d or seconds (3600); max 30d    default 12h

Signs with CANOPY_JWT_SECRET when set, else with the development secret in
$CANOPY_DATA_DIR/dev-jwt-secret (default .canopy/data), created if missing: the
same secret the server uses. Issuer and audience: CANOPY_JWT_ISSUER and
CANOPY_JWT_AUDIENCE (default canopy). Not available with CANOPY_JWKS_URL: tokens
then come from the identity provider.`;

/** Exit code 2: the command line or the configuration is wrong. */
class UsageError extends Error {}

async function token(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  let values: { user?: string | undefined; name?: string | undefined; email?: string | undefined; ttl: string; help?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        user: { type: 'string' },
        name: { type: 'string' },
        email: { type: 'string' },
        ttl: { type: 'string', default: '12h' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) throw new UsageError('');
  if (!values.user) throw new UsageError('--user <id> is required.');
  let ttlSeconds: number;
  try {
    ttlSeconds = parseTtl(values.ttl);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (env['CANOPY_JWKS_URL'] !== undefined) {
    throw new AuthConfigError(
      'CANOPY_JWKS_URL is set: the server verifies tokens from your identity provider, so get a token from it; `canopy token` only mints tokens signed with CANOPY_JWT_SECRET or the development secret.',
    );
  }
  const config = await resolveAuthConfig(authSettingsFromEnv(env));
  if (config.kind !== 'hs256') throw new Error('unreachable: CANOPY_JWKS_URL is refused above');
  const now = new Date();
  const jwt = await mintToken({ secret: config.secret, userId: values.user, name: values.name, email: values.email, ttlSeconds, issuer: config.issuer, audience: config.audience, now });
  process.stdout.write(`${jwt}\n`);
  const signedWith = config.source === 'env' ? 'CANOPY_JWT_SECRET' : `the development secret in ${config.devFile}`;
  const expires = new Date(now.getTime() + ttlSeconds * 1000).toISOString();
  process.stderr.write(`Token for ${values.user}, valid until ${expires}, signed with ${signedWith}. Send it as: Authorization: Bearer <token>\n`);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command !== 'token') throw new UsageError(command === undefined || command === '--help' || command === '-h' ? '' : `Unknown command "${command}".`);
    await token(rest, process.env);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message ? `canopy: ${error.message}\n\n` : ''}${USAGE}\n`);
      return 2;
    }
    if (error instanceof AuthConfigError) {
      process.stderr.write(`canopy: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`canopy: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
