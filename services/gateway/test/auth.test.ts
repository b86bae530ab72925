import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { base64url, exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { ErrorCode, isCanopyError } from '@canopy/schema';
import { createAuthenticator, mintToken, parseTtl, resolveAuthConfig, type AuthConfig } from '../src/auth/index.js';

const secret = new TextEncoder().encode('a-test-secret-that-is-long-enough-for-hs256');
const hs256: AuthConfig = { kind: 'hs256', secret, source: 'env', issuer: 'canopy', audience: 'canopy' };
const mint = (overrides: Partial<Parameters<typeof mintToken>[0]> = {}) =>
  mintToken({ secret, userId: 'alice', ttlSeconds: 3600, issuer: 'canopy', audience: 'canopy', ...overrides });

/** The `details.reason` of the UNAUTHENTICATED error the promise rejects with. */
async function refusal(promise: Promise<unknown>): Promise<string> {
  let error: unknown;
  try {
    await promise;
  } catch (caught) {
    error = caught;
  }
  if (!isCanopyError(error, ErrorCode.UNAUTHENTICATED)) throw new Error(`expected an UNAUTHENTICATED CanopyError, got ${String(error)}`);
  expect(error.message.length).toBeGreaterThan(20);
  return error.details['reason'] as string;
}

describe('bearer tokens signed with a shared HS256 secret', () => {
  const auth = createAuthenticator(hs256);

  it('accepts a valid token and says who calls, until when', async () => {
    const token = await mint({ name: 'Alice Liddell', email: 'alice@example.com', now: new Date('2030-01-01T00:00:00Z') });
    const caller = await createAuthenticator(hs256, { now: () => new Date('2030-01-01T00:30:00Z') }).authenticate(`Bearer ${token}`);
    expect(caller).toEqual({ userId: 'alice', name: 'Alice Liddell', email: 'alice@example.com', expiresAt: new Date('2030-01-01T01:00:00Z') });
  });

  it('accepts the scheme in any case and leaves name and email out when the token has none', async () => {
    const caller = await auth.authenticate(`bearer ${await mint()}`);
    expect(caller.userId).toBe('alice');
    expect(caller).not.toHaveProperty('name');
    expect(caller).not.toHaveProperty('email');
  });

  it('refuses a request without a token, telling how to get one', async () => {
    expect(await refusal(auth.authenticate(undefined))).toBe('missing_token');
    expect(await refusal(auth.authenticate(''))).toBe('missing_token');
    await expect(auth.authenticate(undefined)).rejects.toThrow(/Authorization: Bearer <token>.*npx canopy token --user/);
  });

  it.each(['Basic x', 'Bearer', 'Bearer a b', `Token ${'x'.repeat(20)}`])('refuses the header %j as malformed', async (header) => {
    expect(await refusal(auth.authenticate(header))).toBe('malformed_header');
  });

  it.each(['garbage', 'a.b.c', 'eyJhbGciOiJIUzI1NiJ9.e30'])('refuses the undecodable token %j', async (token) => {
    expect(await refusal(auth.authenticate(`Bearer ${token}`))).toBe('invalid_token');
  });

  it('refuses a token signed with another secret', async () => {
    const forged = await mint({ secret: new TextEncoder().encode('another-secret-that-is-also-32-bytes-long') });
    expect(await refusal(auth.authenticate(`Bearer ${forged}`))).toBe('invalid_token');
  });

  it('refuses an expired token', async () => {
    const old = await mint({ ttlSeconds: 3600, now: new Date(Date.now() - 2 * 3600_000) });
    expect(await refusal(auth.authenticate(`Bearer ${old}`))).toBe('expired_token');
    await expect(auth.authenticate(`Bearer ${old}`)).rejects.toThrow(/expired at \d{4}-/);
  });

  it('allows a few seconds of clock skew, no more', async () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const token = await mint({ ttlSeconds: 60, now });
    const at = (seconds: number) => createAuthenticator(hs256, { now: () => new Date(now.getTime() + seconds * 1000) });
    expect((await at(62).authenticate(`Bearer ${token}`)).userId).toBe('alice');
    expect(await refusal(at(70).authenticate(`Bearer ${token}`))).toBe('expired_token');
    expect(await refusal(createAuthenticator(hs256, { clockToleranceSeconds: 0, now: () => new Date(now.getTime() + 61_000) }).authenticate(`Bearer ${token}`))).toBe(
      'expired_token',
    );
  });

  it('refuses a token from another issuer or for another audience', async () => {
    expect(await refusal(auth.authenticate(`Bearer ${await mint({ issuer: 'https://elsewhere.example' })}`))).toBe('wrong_issuer');
    expect(await refusal(auth.authenticate(`Bearer ${await mint({ audience: 'another-api' })}`))).toBe('wrong_audience');
    await expect(auth.authenticate(`Bearer ${await mint({ issuer: 'https://elsewhere.example' })}`)).rejects.toThrow(/"https:\/\/elsewhere.example".*CANOPY_JWT_ISSUER/);
  });

  it('refuses a token that never expires, and one without a subject', async () => {
    const forever = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setIssuer('canopy').setAudience('canopy').setIssuedAt().sign(secret);
    expect(await refusal(auth.authenticate(`Bearer ${forever}`))).toBe('missing_claim');
    await expect(auth.authenticate(`Bearer ${forever}`)).rejects.toMatchObject({ details: { reason: 'missing_claim', claim: 'exp' } });

    const nobody = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer('canopy').setAudience('canopy').setExpirationTime('1h').sign(secret);
    await expect(auth.authenticate(`Bearer ${nobody}`)).rejects.toMatchObject({ details: { reason: 'missing_claim', claim: 'sub' } });
  });

  it('refuses an unsigned token (alg: none)', async () => {
    const claims = { sub: 'alice', iss: 'canopy', aud: 'canopy', exp: Math.floor(Date.now() / 1000) + 3600 };
    const encode = (value: object) => base64url.encode(JSON.stringify(value));
    for (const unsigned of [`${encode({ alg: 'none', typ: 'JWT' })}.${encode(claims)}.`, `${encode({ alg: 'none' })}.${encode(claims)}.${encode({})}`]) {
      expect(await refusal(auth.authenticate(`Bearer ${unsigned}`))).toBe('invalid_token');
    }
  });

  it('mints tokens with sub, iat, exp, iss, aud and a fresh jti', async () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const [a, b] = await Promise.all([mint({ now }), mint({ now })]);
    const claims = (token: string) => JSON.parse(new TextDecoder().decode(base64url.decode(token.split('.')[1]!))) as Record<string, unknown>;
    expect(claims(a!)).toMatchObject({ sub: 'alice', iss: 'canopy', aud: 'canopy', iat: 1893456000, exp: 1893459600 });
    expect(claims(a!)['jti']).not.toEqual(claims(b!)['jti']);
    await expect(mint({ ttlSeconds: 0 })).rejects.toThrow(/ttlSeconds/);
  });
});

describe('verified tokens are remembered, never past their expiry', () => {
  it('answers a token seen before without verifying it again, and refuses it once it expired', async () => {
    let clock = new Date('2030-01-01T00:00:00Z');
    const token = await mint({ ttlSeconds: 60, now: clock });
    const auth = createAuthenticator(hs256, { now: () => clock, clockToleranceSeconds: 0 });
    const first = await auth.authenticate(`Bearer ${token}`);
    expect(await auth.authenticate(`Bearer ${token}`)).toBe(first);
    clock = new Date('2030-01-01T00:01:00Z');
    expect(await refusal(auth.authenticate(`Bearer ${token}`))).toBe('expired_token');
  });

  it('never lets a remembered token vouch for another one with the same claims', async () => {
    const now = new Date();
    const genuine = await mint({ now });
    const auth = createAuthenticator(hs256);
    await auth.authenticate(`Bearer ${genuine}`);
    const otherSignature = (await mint({ now, secret: new TextEncoder().encode('another-secret-that-is-also-32-bytes-long') })).split('.')[2];
    const forged = `${genuine.split('.').slice(0, 2).join('.')}.${otherSignature}`;
    expect(await refusal(auth.authenticate(`Bearer ${forged}`))).toBe('invalid_token');
  });

  it('keeps at most the configured number of tokens, and none when set to 0', async () => {
    const tokens = await Promise.all(['a', 'b', 'c'].map((userId) => mint({ userId })));
    for (const size of [0, 2]) {
      const auth = createAuthenticator(hs256, { verifiedTokens: size });
      for (const token of tokens) expect((await auth.authenticate(`Bearer ${token}`)).userId).toMatch(/^[abc]$/);
      for (const token of tokens) expect((await auth.authenticate(`Bearer ${token}`)).userId).toMatch(/^[abc]$/);
    }
  });
});

describe('bearer tokens from an identity provider (JWKS)', () => {
  let server: Server;
  let url: string;
  let privateKey: CryptoKey;
  let otherPrivateKey: CryptoKey;
  let requests = 0;

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    privateKey = pair.privateKey;
    otherPrivateKey = (await generateKeyPair('ES256')).privateKey;
    const jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'key-1', alg: 'ES256', use: 'sig' }] };
    server = createServer((request, response) => {
      requests++;
      if (request.url !== '/.well-known/jwks.json') return void response.writeHead(404).end();
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const sign = (key: CryptoKey, kid = 'key-1') =>
    new SignJWT({ name: 'Bob', email: 'bob@example.com' })
      .setProtectedHeader({ alg: 'ES256', kid })
      .setSubject('bob')
      .setIssuer('https://idp.example')
      .setAudience('canopy-api')
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(key);
  const config = (jwksUrl = url): AuthConfig => ({ kind: 'jwks', url: jwksUrl, issuer: 'https://idp.example', audience: 'canopy-api' });

  it('verifies a token through the key set at the URL, fetching it once', async () => {
    const auth = createAuthenticator(config());
    const before = requests;
    expect(await auth.authenticate(`Bearer ${await sign(privateKey)}`)).toMatchObject({ userId: 'bob', name: 'Bob', email: 'bob@example.com' });
    expect(await auth.authenticate(`Bearer ${await sign(privateKey)}`)).toMatchObject({ userId: 'bob' });
    expect(requests - before).toBe(1);
  });

  it('trusts a verified token for a minute at most, then verifies it again', async () => {
    let clock = new Date();
    const token = await sign(privateKey);
    const auth = createAuthenticator(config(), { now: () => clock });
    const first = await auth.authenticate(`Bearer ${token}`);
    expect(await auth.authenticate(`Bearer ${token}`)).toBe(first);
    clock = new Date(clock.getTime() + 61_000);
    const again = await auth.authenticate(`Bearer ${token}`);
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
    clock = new Date(clock.getTime() + 10 * 60_000);
    expect(await refusal(auth.authenticate(`Bearer ${token}`))).toBe('expired_token');
  });

  it('refuses a token signed with a key that is not in the set', async () => {
    const auth = createAuthenticator(config());
    expect(await refusal(auth.authenticate(`Bearer ${await sign(otherPrivateKey)}`))).toBe('invalid_token');
    expect(await refusal(auth.authenticate(`Bearer ${await sign(otherPrivateKey, 'key-2')}`))).toBe('invalid_token');
  });

  it('refuses an HS256 token, whatever it is signed with (no algorithm confusion)', async () => {
    const hs = await new SignJWT({}).setProtectedHeader({ alg: 'HS256', kid: 'key-1' }).setSubject('bob').setIssuer('https://idp.example').setAudience('canopy-api').setExpirationTime('10m').sign(secret);
    expect(await refusal(createAuthenticator(config()).authenticate(`Bearer ${hs}`))).toBe('invalid_token');
  });

  it('says the key set is unavailable when its server is down', async () => {
    const down = createServer();
    await new Promise<void>((resolve) => down.listen(0, '127.0.0.1', resolve));
    const { port } = down.address() as AddressInfo;
    await new Promise((resolve) => down.close(resolve));
    const auth = createAuthenticator(config(`http://127.0.0.1:${port}/jwks.json`));
    expect(await refusal(auth.authenticate(`Bearer ${await sign(privateKey)}`))).toBe('jwks_unavailable');
    const notFound = createAuthenticator(config(url.replace('jwks.json', 'missing.json')));
    expect(await refusal(notFound.authenticate(`Bearer ${await sign(privateKey)}`))).toBe('jwks_unavailable');
  });
});

describe('resolveAuthConfig', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'canopy-auth-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const settings = { issuer: 'canopy', audience: 'canopy' };

  it('without a secret or a key set, generates a development secret once (mode 0600) and reuses it', async () => {
    const dataDir = join(dir, 'fresh', 'data');
    const first = await resolveAuthConfig({ ...settings, dataDir });
    expect(first).toMatchObject({ kind: 'hs256', source: 'dev-file', devFile: join(dataDir, 'dev-jwt-secret') });
    const file = join(dataDir, 'dev-jwt-secret');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const text = (await readFile(file, 'utf8')).trim();
    expect(text).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const second = await resolveAuthConfig({ ...settings, dataDir });
    expect(second.kind === 'hs256' && Buffer.from(second.secret).equals(Buffer.from(first.kind === 'hs256' ? first.secret : []))).toBe(true);
    // The file's text is the secret, so CANOPY_JWT_SECRET=$(cat dev-jwt-secret) signs the same tokens.
    const fromEnv = await resolveAuthConfig({ ...settings, dataDir, jwtSecret: text });
    expect(fromEnv.kind === 'hs256' && Buffer.from(fromEnv.secret).equals(Buffer.from(text))).toBe(true);
  });

  it('gives every process starting at once the same development secret', async () => {
    const dataDir = join(dir, 'race');
    const configs = await Promise.all(Array.from({ length: 8 }, () => resolveAuthConfig({ ...settings, dataDir })));
    const secrets = new Set(configs.map((c) => (c.kind === 'hs256' ? Buffer.from(c.secret).toString() : '')));
    expect(secrets.size).toBe(1);
  });

  it('takes CANOPY_JWT_SECRET when it is at least 32 bytes, and refuses a shorter one naming the variable', async () => {
    await expect(resolveAuthConfig({ ...settings, dataDir: dir, jwtSecret: 'x'.repeat(32) })).resolves.toMatchObject({ kind: 'hs256', source: 'env' });
    await expect(resolveAuthConfig({ ...settings, dataDir: dir, jwtSecret: 'x'.repeat(31) })).rejects.toThrow(/CANOPY_JWT_SECRET is 31 bytes long/);
    await expect(resolveAuthConfig({ ...settings, dataDir: dir, jwtSecret: '' })).rejects.toThrow(/CANOPY_JWT_SECRET/);
  });

  it('takes CANOPY_JWKS_URL, refuses a URL that is not http(s), and refuses both settings at once', async () => {
    await expect(resolveAuthConfig({ ...settings, dataDir: dir, jwksUrl: 'https://idp.example/jwks' })).resolves.toEqual({
      kind: 'jwks',
      url: 'https://idp.example/jwks',
      issuer: 'canopy',
      audience: 'canopy',
    });
    await expect(resolveAuthConfig({ ...settings, dataDir: dir, jwksUrl: 'idp.example/jwks' })).rejects.toThrow(/CANOPY_JWKS_URL/);
    await expect(resolveAuthConfig({ ...settings, dataDir: dir, jwksUrl: 'ftp://idp.example/jwks' })).rejects.toThrow(/CANOPY_JWKS_URL/);
    await expect(resolveAuthConfig({ ...settings, dataDir: dir, jwksUrl: 'https://idp.example/jwks', jwtSecret: 'x'.repeat(40) })).rejects.toThrow(
      /CANOPY_JWT_SECRET and CANOPY_JWKS_URL are both set/,
    );
  });
});

describe('parseTtl', () => {
  it.each([
    ['3600', 3600],
    ['45s', 45],
    ['30m', 1800],
    ['12h', 43200],
    ['7d', 604800],
    ['30d', 2592000],
  ])('reads %s as %i seconds', (text, seconds) => {
    expect(parseTtl(text)).toBe(seconds);
  });

  it.each(['31d', '0', '0h', '1w', '-5m', '1.5h', 'soon', ''])('refuses %j', (text) => {
    expect(() => parseTtl(text)).toThrow(/--ttl/);
  });
});
