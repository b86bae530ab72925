import { describe, expect, it } from '@jest/globals';
import { ErrorCode } from '@canopy/schema';
import {
  evolveWorkspace,
  initialWorkspaceState,
  nextSecretVersion,
  SecretValues,
  type SealedValue,
  type WorkspaceCommand,
  type WorkspaceEvent,
} from '../src/index.js';
import { actors, as, given, team, W } from './workspace-fixtures.js';

const bob = actors.admin;

// Sealing is the command handler's job; the decider only sees sealed values.
const sealedAs = (tag: string): SealedValue => ({ alg: 'A256GCM', iv: `iv-${tag}`, ciphertext: `ciphertext-${tag}`, tag: `tag-${tag}` });
const one = { password: sealedAs('1') };
const two = { password: sealedAs('2'), user: sealedAs('u') };
const written = (name: string, version: number, values: Record<string, SealedValue>, writtenBy = 'bob'): WorkspaceEvent => ({
  type: 'SecretWritten',
  data: { workspaceId: W, name, version, values, writtenBy },
});
const deleted = (name: string): WorkspaceEvent => ({ type: 'SecretDeleted', data: { workspaceId: W, name } });
const write = (name: string, version: number, values: Record<string, SealedValue> = one): WorkspaceCommand => ({ type: 'WriteSecret', name, version, values });

describe('secrets: who may write and delete them', () => {
  const roles: [keyof typeof actors, 'ok' | typeof ErrorCode.FORBIDDEN][] = [
    ['viewer', ErrorCode.FORBIDDEN],
    ['member', ErrorCode.FORBIDDEN],
    ['admin', 'ok'],
    ['owner', 'ok'],
  ];

  it.each(roles)('WriteSecret as %s: %s', (role, outcome) => {
    const attempt = given(actors[role])(team).when(write('db', 1));
    if (outcome === 'ok') attempt.then([written('db', 1, one, actors[role].userId)]);
    else attempt.thenFails(outcome, { action: 'manageSecrets', role, required: 'admin' });
  });

  it.each(roles)('DeleteSecret as %s: %s', (role, outcome) => {
    const attempt = given(actors[role])([...team, written('db', 1, one)]).when({ type: 'DeleteSecret', name: 'db' });
    if (outcome === 'ok') attempt.then([deleted('db')]);
    else attempt.thenFails(outcome, { action: 'manageSecrets', role, required: 'admin' });
  });

  it('a caller with no role is told the workspace does not exist', () => {
    given(as('eve', undefined))(team).when(write('db', 1)).thenFails(ErrorCode.NOT_FOUND, { workspaceId: W });
    given(as('eve', undefined))([...team, written('db', 1, one)]).when({ type: 'DeleteSecret', name: 'db' }).thenFails(ErrorCode.NOT_FOUND, { workspaceId: W });
  });
});

describe('secrets: versions', () => {
  it('a new secret is written at version 1, by the actor, with the sealed values as given', () => {
    expect(nextSecretVersion(given(bob)(team).state, 'db')).toBe(1);
    given(bob)(team).when(write('db', 1)).then([written('db', 1, one)]);
  });

  it('the second write is version 2, and the state holds the latest', () => {
    const history = [...team, written('db', 1, one)];
    expect(nextSecretVersion(given(bob)(history).state, 'db')).toBe(2);
    expect(nextSecretVersion(given(bob)(history).state, 'cache')).toBe(1);
    given(actors.owner)(history).when(write('db', 2, two)).then([written('db', 2, two, 'ada')]);
    const { state } = given(bob)([...history, written('db', 2, two, 'ada')]);
    expect(state.secrets.get('db')).toEqual({ version: 2, values: two, writtenBy: 'ada', writtenAt: undefined });
    expect(nextSecretVersion(state, 'db')).toBe(3);
  });

  it('a write sealed for another version is a CONFLICT that gives the next version', () => {
    given(bob)(team).when(write('db', 2)).thenFails(ErrorCode.CONFLICT, { field: 'name', nextVersion: 1 });
    given(bob)(team).when(write('db', 0)).thenFails(ErrorCode.CONFLICT, { field: 'name', nextVersion: 1 });
    const history = [...team, written('db', 1, one)];
    given(bob)(history).when(write('db', 1)).thenFails(ErrorCode.CONFLICT, { field: 'name', nextVersion: 2 });
    given(bob)(history).when(write('db', 3)).thenFails(ErrorCode.CONFLICT, { field: 'name', nextVersion: 2 });
  });

  it('folds when the secret was written from the event metadata', () => {
    const state = evolveWorkspace(initialWorkspaceState, written('db', 1, one), { occurredAt: '2025-01-02T03:04:05.000Z' });
    expect(state.secrets.get('db')).toEqual({ version: 1, values: one, writtenBy: 'bob', writtenAt: '2025-01-02T03:04:05.000Z' });
  });

  it('the event holds its own copy of the values', () => {
    const values: Record<string, SealedValue> = { password: sealedAs('1') };
    const [event] = given(bob)(team).when(write('db', 1, values)).events();
    values.extra = sealedAs('x');
    expect(event).toEqual(written('db', 1, { password: sealedAs('1') }));
  });

  it('deletes a secret; an unknown one is NOT_FOUND; after deleting, a new write starts again at version 1', () => {
    const history = [...team, written('db', 1, one), written('db', 2, two)];
    given(bob)(history).when({ type: 'DeleteSecret', name: 'db' }).then([deleted('db')]);
    given(bob)(history).when({ type: 'DeleteSecret', name: 'cache' }).thenFails(ErrorCode.NOT_FOUND, { field: 'name' });
    const gone = [...history, deleted('db')];
    expect(given(bob)(gone).state.secrets.has('db')).toBe(false);
    given(bob)(gone).when({ type: 'DeleteSecret', name: 'db' }).thenFails(ErrorCode.NOT_FOUND, { field: 'name' });
    given(bob)(gone).when(write('db', 1)).then([written('db', 1, one)]);
  });

  it.each(['DB', 'db_password', '', '-db', 'db-', 'db..password', 'db password', 'd'.repeat(254)])('refuses the secret name %j with BAD_USER_INPUT', (name) => {
    given(bob)(team).when(write(name, 1)).thenFails(ErrorCode.BAD_USER_INPUT, { field: 'name' });
  });

  it.each(['db.password', 'tls-cert', 'd'.repeat(253), 'a'])('accepts the secret name %j', (name) => {
    given(bob)(team).when(write(name, 1)).then([written(name, 1, one)]);
  });
});

describe('SecretValues: the plain values before sealing', () => {
  const entry = (key: string, value = 'v') => ({ key, value });
  const issues = (input: unknown) => {
    const result = SecretValues.safeParse(input);
    return result.success ? [] : result.error.issues.map((issue) => ({ path: issue.path, message: issue.message }));
  };

  it('accepts keys of letters, digits, -, _ and .', () => {
    const input = [entry('DB_PASSWORD'), entry('.dockerconfigjson', '{}'), entry('tls.crt'), entry('my-key'), entry('k'.repeat(253))];
    expect(SecretValues.parse(input)).toEqual(input);
  });

  it.each([
    ['an empty key', ''],
    ['a key with a space', 'db password'],
    ['a key with a slash', 'a/b'],
    ['a key with a colon', 'a:b'],
    ['a key of 254 characters', 'k'.repeat(254)],
    ['the key .', '.'],
    ['the key ..', '..'],
    ['a key starting with ..', '..data'],
  ])('refuses %s', (_label, key) => {
    const found = issues([entry('ok'), entry(key)]);
    expect(found.length).toBeGreaterThan(0);
    expect(found.map((issue) => issue.path)).toEqual(found.map(() => [1, 'key']));
  });

  it('refuses a repeated key, naming the repeat', () => {
    expect(issues([entry('a'), entry('b'), entry('a')])).toEqual([{ path: [2, 'key'], message: 'repeats key a' }]);
    // Keys are case-sensitive, as in Kubernetes.
    expect(issues([entry('a'), entry('A')])).toEqual([]);
  });

  it('needs at least one key and at most 50', () => {
    expect(issues([])).toHaveLength(1);
    expect(issues(Array.from({ length: 50 }, (_, i) => entry(`k${i}`)))).toEqual([]);
    expect(issues(Array.from({ length: 51 }, (_, i) => entry(`k${i}`)))).toHaveLength(1);
  });

  it('a value is at most 64 KiB, counted in bytes', () => {
    expect(issues([entry('a', 'x'.repeat(65_536))])).toEqual([]);
    expect(issues([entry('a', 'x'.repeat(65_537))])).toEqual([expect.objectContaining({ path: [0, 'value'], message: 'must be at most 64 KiB' })]);
    // 40,000 characters, 80,000 bytes.
    expect(issues([entry('a', 'é'.repeat(40_000))])).toEqual([expect.objectContaining({ path: [0, 'value'] })]);
    expect(issues([entry('a', 'é'.repeat(32_768))])).toEqual([]);
    expect(issues([entry('a', '')])).toEqual([]);
  });

  it('all values together are at most 256 KiB', () => {
    const full = 'x'.repeat(65_536);
    expect(issues([entry('a', full), entry('b', full), entry('c', full), entry('d', full)])).toEqual([]);
    expect(issues([entry('a', full), entry('b', full), entry('c', full), entry('d', full), entry('e', 'x')])).toEqual([
      { path: [], message: 'must be at most 256 KiB in all' },
    ]);
  });

  it('refuses what is not a list of key and value strings', () => {
    expect(issues({ a: 'b' })).not.toEqual([]);
    expect(issues([{ key: 'a' }])).not.toEqual([]);
    expect(issues([{ key: 'a', value: 1 }])).not.toEqual([]);
  });
});
