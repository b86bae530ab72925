import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createProject, createTeam, Q, TestGateway, unique, type GqlError, type TeamSetup } from './client.js';
import { WORKSPACE_EVENTS, WsClient } from './ws-client.js';

/**
 * Safe by default, over real HTTP: each limit refused with its own code
 * (and what is just within it answered), batches up to the cap, CSRF
 * prevention, automatic persisted queries, the per-caller rate, and what
 * production mode hides and development mode shows (introspection, field
 * suggestions, the GraphiQL explorer with its token).
 */

interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

async function post(gateway: TestGateway, caller: string | null, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const authorization = await gateway.authorization(caller);
  const response = await fetch(`${gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}), ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

/** Asserts the one error of a refused request: HTTP status, code, and no data. */
function expectRefused(answer: Answer, status: number, code: string): GqlError {
  expect({ status: answer.status, codes: (answer.body.errors as GqlError[] | undefined)?.map((e) => e.extensions?.code) }).toEqual({ status, codes: [code] });
  expect(answer.body.data ?? null).toBeNull();
  return answer.body.errors[0] as GqlError;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('production mode (the default)', () => {
  let gateway: TestGateway;
  let team: TeamSetup;

  beforeAll(async () => {
    gateway = await TestGateway.start({ logLevel: 'warn' });
    team = await createTeam(gateway);
  }, 60_000);

  afterAll(async () => {
    await gateway?.stop();
  });

  describe('limits at their defaults', () => {
    /** An operation whose fragments spread into one another `spreads` times (each spread nests one level, as a field does). */
    const nestedFragments = (spreads: number) =>
      [`query Nested { ...F0 }`, ...Array.from({ length: spreads }, (_, i) => (i === spreads - 1 ? `fragment F${i} on Query { organizations { nodes { id } } }` : `fragment F${i} on Query { ...F${i + 1} }`))].join('\n');

    it('refuses an operation nested deeper than 10 with QUERY_TOO_DEEP, and answers one within it', async () => {
      const error = expectRefused(await post(gateway, team.owner, { query: nestedFragments(8) }), 400, 'QUERY_TOO_DEEP');
      expect(error.extensions).toEqual({ code: 'QUERY_TOO_DEEP', limit: 10 });
      expect(error.message).toMatch(/depth limit of 10 exceeded.*CANOPY_MAX_DEPTH/);
      const within = await post(gateway, team.owner, { query: nestedFragments(3) });
      expect(within.body.errors).toBeUndefined();
      expect(within.body.data.organizations.nodes).toEqual(expect.arrayContaining([{ id: team.organizationId }]));
    });

    it('refuses two full history pages of 500 in one operation with QUERY_TOO_COMPLEX, and answers one page', async () => {
      const page = (alias: string) => `${alias}: organizationHistory(organizationId: $id, first: 500) {
        edges { cursor node { position stream revision organizationId workspaceId type actor correlationId recordedAt data } }
        pageInfo { hasNextPage endCursor } }`;
      const two = await post(gateway, team.owner, { query: `query Two($id: ID!) { ${page('a')} ${page('b')} }`, variables: { id: team.organizationId } });
      expect(expectRefused(two, 400, 'QUERY_TOO_COMPLEX').extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', limit: 50_000 });
      const one = await post(gateway, team.owner, { query: `query One($id: ID!) { ${page('a')} }`, variables: { id: team.organizationId } });
      expect(one.body.errors).toBeUndefined();
      expect(one.body.data.a.edges.length).toBeGreaterThan(0);
    });

    it('refuses 16 aliases with TOO_MANY_ALIASES, and answers 15', async () => {
      const aliased = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: organizations { nodes { id } }`).join(' ')} }`;
      expect(expectRefused(await post(gateway, team.owner, { query: aliased(16) }), 400, 'TOO_MANY_ALIASES').extensions).toEqual({ code: 'TOO_MANY_ALIASES', limit: 15 });
      expect((await post(gateway, team.owner, { query: aliased(15) })).body.data.a14.nodes).toEqual(expect.arrayContaining([{ id: team.organizationId }]));
    });

    it('refuses 51 directives with TOO_MANY_DIRECTIVES, and answers 50', async () => {
      const directed = (n: number) => `{ organizations { nodes { ${'id @include(if: true) '.repeat(n)} } } }`;
      expect(expectRefused(await post(gateway, team.owner, { query: directed(51) }), 400, 'TOO_MANY_DIRECTIVES').extensions).toEqual({ code: 'TOO_MANY_DIRECTIVES', limit: 50 });
      expect((await post(gateway, team.owner, { query: directed(50) })).body.errors).toBeUndefined();
    });

    it('refuses a document of more than 1,000 tokens with TOO_MANY_TOKENS before parsing or authenticating it', async () => {
      // `{ organizations { nodes {` + n × `id` + `} } }`: n + 8 tokens.
      const document = (n: number) => `{ organizations { nodes { ${'id '.repeat(n)} } } }`;
      const refused = await post(gateway, null, { query: document(996) });
      expect(expectRefused(refused, 400, 'TOO_MANY_TOKENS').extensions).toEqual({ code: 'TOO_MANY_TOKENS', limit: 1000 });
      // The same document in a GET request.
      const get = await fetch(`${gateway.url}/graphql?query=${encodeURIComponent(document(996))}`, { headers: { 'apollo-require-preflight': 'true' } });
      expect(get.status).toBe(400);
      expect(((await get.json()) as { errors: GqlError[] }).errors[0]!.extensions?.code).toBe('TOO_MANY_TOKENS');
      // 988 tokens (28 around a list of 960 strings), answered.
      const within = `query Within($id: ID!) { organizationHistory(organizationId: $id, types: [${'"OrganizationCreated" '.repeat(960)}]) { pageInfo { hasNextPage } } }`;
      expect((await post(gateway, team.owner, { query: within, variables: { id: team.organizationId } })).body.errors).toBeUndefined();
    });

    it('answers a batch of 10 operations (each its own result) and refuses 11 with BATCH_TOO_LARGE, running none of them', async () => {
      const names = Array.from({ length: 11 }, (_, i) => unique(`Batched${i}`));
      const create = (name: string) => ({ query: Q.createOrganization, variables: { name, kind: 'TEAM' } });
      const refused = await gateway.expectLogUnchanged(() => post(gateway, team.owner, names.map(create)));
      expect(refused.status).toBe(400);
      expect(refused.body.errors).toEqual([{ message: expect.stringMatching(/at most 10 operations; this one holds 11/), extensions: { code: 'BATCH_TOO_LARGE', limit: 10 } }]);

      // The operations of a batch run concurrently: these ten are independent.
      const answered = await post(gateway, team.owner, names.slice(0, 10).map(create));
      expect(answered.status).toBe(200);
      expect(answered.body.map((result: { data: { createOrganization: { organization: { name: string } } } }) => result.data.createOrganization.organization.name)).toEqual(names.slice(0, 10));
    });
  });

  describe('the same limits over WebSocket', () => {
    /** A subscription whose selection nests `levels` fields below `workspaceEvents` through fragments (each spread nests one level). */
    const deepSubscription = (spreads: number) =>
      [`subscription Deep($workspaceId: ID!) { workspaceEvents(workspaceId: $workspaceId) { ...F0 } }`, ...Array.from({ length: spreads }, (_, i) => (i === spreads - 1 ? `fragment F${i} on WorkspaceEvent { cursor }` : `fragment F${i} on WorkspaceEvent { ...F${i + 1} }`))].join('\n');

    it('refuses a subscription too deep, with too many aliases or too many tokens, each with its code, and answers one within the limits', async () => {
      const client = await WsClient.as(gateway, team.owner);
      try {
        const { workspaceId, version } = await createProject(gateway, team);
        const deep = client.subscribe(deepSubscription(12), { workspaceId });
        const aliases = client.subscribe(`subscription ($workspaceId: ID!) { workspaceEvents(workspaceId: $workspaceId) { ${Array.from({ length: 16 }, (_, i) => `a${i}: cursor`).join(' ')} } }`, { workspaceId });
        const tokens = client.subscribe(`subscription ($workspaceId: ID!) { workspaceEvents(workspaceId: $workspaceId) { ${'cursor '.repeat(1000)} } }`, { workspaceId });
        const within = client.subscribe(WORKSPACE_EVENTS, { workspaceId });
        for (const stream of [deep, aliases, tokens]) await stream.ended();
        expect(deep.errorCodes).toContain('QUERY_TOO_DEEP');
        expect(aliases.errorCodes).toEqual(['TOO_MANY_ALIASES']);
        expect(tokens.errorCodes).toEqual(['TOO_MANY_TOKENS']);
        // The allowed subscription listens once the others are answered (one connection's messages are handled in order).
        await gateway.ok(team.owner, Q.addNamespace, { workspaceId, expectedVersion: version, namespace: 'within-limits' });
        await within.until((s) => s.events.length > 0, 'the allowed subscription to see the change');
        expect(within.error).toBeUndefined();
      } finally {
        await client.dispose();
      }
    });
  });

  describe('CSRF prevention', () => {
    it('refuses requests a browser sends cross-site without a preflight, running nothing', async () => {
      const authorization = (await gateway.authorization(team.owner))!;
      const mutation = JSON.stringify({ query: Q.createOrganization, variables: { name: unique('Csrf'), kind: 'TEAM' } });
      const textPlain = await gateway.expectLogUnchanged(() => fetch(`${gateway.url}/graphql`, { method: 'POST', headers: { 'content-type': 'text/plain', authorization }, body: mutation }));
      expect(textPlain.status).toBe(400);
      expect(await textPlain.text()).toMatch(/Cross-Site Request Forgery/);
      const query = encodeURIComponent('{ organizations { nodes { id } } }');
      const simpleGet = await fetch(`${gateway.url}/graphql?query=${query}`, { headers: { authorization } });
      expect(simpleGet.status).toBe(400);
      const preflighted = await fetch(`${gateway.url}/graphql?query=${query}`, { headers: { authorization, 'apollo-require-preflight': 'true' } });
      expect(preflighted.status).toBe(200);
    });
  });

  describe('automatic persisted queries', () => {
    it('answers a hash it does not know with PERSISTED_QUERY_NOT_FOUND, registers it with the query, then runs the hash alone (POST and GET)', async () => {
      const query = `query Persisted { organizations { nodes { id name } } }`;
      const extensions = { persistedQuery: { version: 1, sha256Hash: sha256(query) } };
      const unknown = await post(gateway, team.owner, { extensions });
      expect(unknown.status).toBe(200);
      expect(unknown.body.errors.map((e: GqlError) => e.extensions?.code)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);

      const registered = await post(gateway, team.owner, { query, extensions });
      expect(registered.body.errors).toBeUndefined();
      const hashOnly = await post(gateway, team.owner, { extensions });
      expect(hashOnly.body).toEqual(registered.body);
      expect(hashOnly.body.data.organizations.nodes).toEqual(expect.arrayContaining([expect.objectContaining({ id: team.organizationId })]));

      const get = await fetch(`${gateway.url}/graphql?extensions=${encodeURIComponent(JSON.stringify(extensions))}`, {
        headers: { authorization: (await gateway.authorization(team.owner))!, 'apollo-require-preflight': 'true' },
      });
      expect(await get.json()).toEqual(registered.body);
    });

    it('refuses a query whose hash does not match it, registering nothing', async () => {
      const extensions = { persistedQuery: { version: 1, sha256Hash: sha256('{ organizations { nodes { id } } }') } };
      const mismatched = await post(gateway, team.owner, { query: '{ __typename }', extensions });
      expect(mismatched.status).toBe(400);
      expect(mismatched.body.errors).toEqual([{ message: 'provided sha does not match query', extensions: { code: 'BAD_REQUEST' } }]);
      expect((await post(gateway, team.owner, { extensions })).body.errors.map((e: GqlError) => e.extensions?.code)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    });
  });

  describe('what production mode hides', () => {
    it('refuses introspection with INTROSPECTION_DISABLED, and still answers __typename', async () => {
      for (const query of ['{ __schema { queryType { name } } }', '{ __type(name: "Workspace") { fields { name } } }']) {
        const error = expectRefused(await post(gateway, team.owner, { query }), 400, 'INTROSPECTION_DISABLED');
        expect(error.message).toMatch(/CANOPY_MODE=production/);
      }
      expect((await post(gateway, team.owner, { query: '{ __typename }' })).body).toEqual({ data: { __typename: 'Query' } });
    });

    it('names no field, type or enum value the caller did not ask for', async () => {
      const field = expectRefused(await post(gateway, team.owner, { query: '{ organisations { id } }' }), 400, 'GRAPHQL_VALIDATION_FAILED');
      expect(field.message).toBe('Cannot query field "organisations" on type "Query".');
      const enumValue = await post(gateway, team.owner, { query: Q.createOrganization, variables: { name: 'x', kind: 'TEEM' } });
      expect(enumValue.body.errors).toHaveLength(1);
      expect(enumValue.body.errors[0].message).not.toMatch(/Did you mean|TEAM|PERSONAL/);
    });

    it('serves no explorer: the endpoint does not answer HTML, and the explorer files are not there', async () => {
      const page = await fetch(`${gateway.url}/graphql`, { headers: { accept: 'text/html' } });
      expect(page.headers.get('content-type')).not.toMatch(/text\/html/);
      expect(await page.text()).not.toMatch(/<html|graphiql|sandbox/i);
      expect((await fetch(`${gateway.url}/graphiql/graphiql.min.js`)).status).toBe(404);
    });
  });
});

describe('the rate per caller', () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await TestGateway.start({ logLevel: 'warn', env: { CANOPY_RATE_LIMIT_PER_MINUTE: '5' } });
  }, 60_000);

  afterAll(async () => {
    await gateway?.stop();
  });

  it('refuses the 6th operation in a minute with HTTP 429 RATE_LIMITED and retry-after, running nothing; another caller is unaffected', async () => {
    const alice = unique('alice');
    for (let i = 0; i < 5; i++) expect((await post(gateway, alice, { query: '{ __typename }' })).status).toBe(200);
    const limited = await gateway.expectLogUnchanged(() => post(gateway, alice, { query: Q.createOrganization, variables: { name: unique('Limited'), kind: 'TEAM' } }));
    const error = expectRefused(limited, 429, 'RATE_LIMITED');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(error.extensions).toEqual({ code: 'RATE_LIMITED', retryAfterSeconds: retryAfter });
    expect(error.message).toMatch(/at most 5 per minute per caller/);

    const bob = unique('bob');
    expect(await gateway.ok(bob, Q.createOrganization, { name: unique('Unaffected'), kind: 'TEAM' })).toBeTruthy();
  });

  it('counts each subscribe over WebSocket against the same rate, and refuses past it with RATE_LIMITED and retryAfterSeconds', async () => {
    const dave = unique('dave');
    for (let i = 0; i < 4; i++) expect((await post(gateway, dave, { query: '{ __typename }' })).status).toBe(200);
    const client = await WsClient.as(gateway, dave);
    try {
      const first = client.subscribe(WORKSPACE_EVENTS, { workspaceId: '00000000-0000-4000-8000-000000000000' });
      const second = client.subscribe(WORKSPACE_EVENTS, { workspaceId: '00000000-0000-4000-8000-000000000000' });
      await second.ended();
      await first.ended();
      expect(first.errorCodes).not.toContain('RATE_LIMITED');
      expect(second.errorCodes).toEqual(['RATE_LIMITED']);
      const error = (second.error as { message: string; extensions: Record<string, unknown> }[])[0]!;
      expect(Object.keys(error.extensions).sort()).toEqual(['code', 'retryAfterSeconds']);
      expect(error.message).toMatch(/at most 5 per minute per caller/);
    } finally {
      await client.dispose();
    }
  });

  it('counts each operation of a batch', async () => {
    const carol = unique('carol');
    const batch = await post(gateway, carol, Array.from({ length: 5 }, () => ({ query: '{ __typename }' })));
    expect(batch.status).toBe(200);
    expect(expectRefused(await post(gateway, carol, { query: '{ __typename }' }), 429, 'RATE_LIMITED')).toBeTruthy();
  });
});

describe('development mode', () => {
  let gateway: TestGateway;
  const devUser = unique('developer');

  beforeAll(async () => {
    gateway = await TestGateway.start({ logLevel: 'warn', env: { CANOPY_MODE: 'development', CANOPY_DEV_USER: devUser } });
  }, 60_000);

  afterAll(async () => {
    await gateway?.stop();
  });

  it('answers introspection', async () => {
    const answer = await post(gateway, devUser, { query: '{ __schema { queryType { name } } }' });
    expect(answer.body).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
  });

  it('suggests the field meant', async () => {
    const error = expectRefused(await post(gateway, devUser, { query: '{ organisations { id } }' }), 400, 'GRAPHQL_VALIDATION_FAILED');
    expect(error.message).toMatch(/Did you mean "organizations"/);
  });

  it('serves GraphiQL at the endpoint from local files only, with a working token for CANOPY_DEV_USER in the headers', async () => {
    const page = await fetch(`${gateway.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    const urls = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
    expect(urls.sort()).toEqual(['/graphiql/graphiql.min.css', '/graphiql/graphiql.min.js', '/graphiql/react-dom.production.min.js', '/graphiql/react.production.min.js', '/graphiql/start.js']);
    expect(html).not.toMatch(/https?:\/\//);
    for (const url of urls) {
      const asset = await fetch(`${gateway.url}${url}`);
      expect({ url, status: asset.status }).toEqual({ url, status: 200 });
      expect(asset.headers.get('content-type')).toMatch(url.endsWith('.css') ? /^text\/css/ : /^text\/javascript/);
      expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(url.endsWith('start.js') ? 100 : 5_000);
    }
    for (const other of ['/graphiql/package.json', '/graphiql/..%2Fpackage.json', '/graphiql/graphiql.js']) expect((await fetch(`${gateway.url}${other}`)).status).toBe(404);

    const config = JSON.parse(/<script id="graphiql-config" type="application\/json">([^<]*)<\/script>/.exec(html)![1]!) as { endpoint: string; headers: { Authorization: string } };
    expect(config.endpoint).toBe('/graphql');
    const token = /^Bearer (\S+)$/.exec(config.headers.Authorization)![1]!;
    expect(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'))).toMatchObject({ sub: devUser });
    const answer = await post(gateway, null, { query: Q.createOrganization, variables: { name: unique('FromGraphiQL'), kind: 'TEAM' } }, { authorization: config.headers.Authorization });
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data.createOrganization.organization.owners).toEqual([devUser]);
  });
});
