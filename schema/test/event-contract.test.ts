import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { CanopyError, canopyEventRegistry, defineEvent, ErrorCode, EventRegistry } from '../src/index.js';

const WorkspaceRenamedV1 = { name: z.string() };
const WorkspaceRenamed = defineEvent({
  type: 'WorkspaceRenamed',
  version: 3,
  payload: z.object({ workspaceId: z.string().min(1), name: z.string().min(1), previousName: z.string().nullable() }),
  upcasters: {
    // v1 had only the new name; v2 added the workspace id; v3 added the previous name.
    1: (v1) => ({ ...z.object(WorkspaceRenamedV1).parse(v1), workspaceId: 'unknown' }),
    2: (v2) => ({ ...(v2 as object), previousName: null }),
  },
});

function errorOf(fn: () => unknown): CanopyError {
  try {
    fn();
  } catch (error) {
    if (error instanceof CanopyError) return error;
    throw error;
  }
  throw new Error('expected a CanopyError');
}

describe('event contracts', () => {
  const registry = new EventRegistry([WorkspaceRenamed]);

  it('accepts a valid payload of the current version and strips unknown keys', () => {
    expect(registry.validate('WorkspaceRenamed', { workspaceId: 'w1', name: 'prod', previousName: 'dev', extra: true })).toEqual({
      version: 3,
      payload: { workspaceId: 'w1', name: 'prod', previousName: 'dev' },
    });
  });

  it('rejects an invalid payload with INVALID_EVENT_PAYLOAD naming the field', () => {
    const error = errorOf(() => registry.validate('WorkspaceRenamed', { workspaceId: 'w1', name: '', previousName: null }));
    expect(error.code).toBe(ErrorCode.INVALID_EVENT_PAYLOAD);
    expect(error.details.issues).toEqual([expect.objectContaining({ field: 'name' })]);
  });

  it('rejects an event type without a contract with UNKNOWN_EVENT_TYPE', () => {
    expect(errorOf(() => registry.validate('Nope', {})).code).toBe(ErrorCode.UNKNOWN_EVENT_TYPE);
  });

  it('upcasts a stored v1 payload through every version to the current one', () => {
    expect(registry.upcast('WorkspaceRenamed', 1, { name: 'prod' })).toEqual({ workspaceId: 'unknown', name: 'prod', previousName: null });
    expect(registry.upcast('WorkspaceRenamed', 2, { workspaceId: 'w1', name: 'prod' })).toEqual({ workspaceId: 'w1', name: 'prod', previousName: null });
  });

  it('refuses a stored version newer than this build knows', () => {
    expect(errorOf(() => registry.upcast('WorkspaceRenamed', 4, {})).details).toMatchObject({ version: 4, known: 3 });
  });

  it('lifts a stored payload once: every reader of that object gets the same frozen payload, validated once', () => {
    let checks = 0;
    const Counted = defineEvent({
      type: 'Counted',
      version: 2,
      payload: z.object({ n: z.number(), unit: z.string() }).refine(() => ++checks > 0),
      upcasters: { 1: (v1) => ({ ...(v1 as object), unit: 'items' }) },
    });
    const counting = new EventRegistry([Counted]);
    const stored = { n: 3 };
    const first = counting.upcast('Counted', 1, stored);
    expect(first).toEqual({ n: 3, unit: 'items' });
    expect(counting.upcast('Counted', 1, stored)).toBe(first);
    expect(checks).toBe(1);
    expect(Object.isFrozen(first)).toBe(true);
    expect(stored).toEqual({ n: 3 });
    // Another object with the same content is another stored event: lifted and checked on its own.
    expect(counting.upcast('Counted', 1, { n: 3 })).not.toBe(first);
    expect(checks).toBe(2);
    // A stored payload that fails its contract fails every time.
    const invalid = { n: 'three' };
    expect(errorOf(() => counting.upcast('Counted', 1, invalid)).code).toBe(ErrorCode.INVALID_EVENT_PAYLOAD);
    expect(errorOf(() => counting.upcast('Counted', 1, invalid)).code).toBe(ErrorCode.INVALID_EVENT_PAYLOAD);
  });

  it('refuses a contract whose upcaster chain has a hole', () => {
    expect(() => defineEvent({ type: 'Holey', version: 3, payload: z.object({}), upcasters: { 1: (p) => p } })).toThrow(/missing upcaster from v2 to v3/);
  });

  it('refuses a type registered twice', () => {
    expect(() => new EventRegistry([WorkspaceRenamed, WorkspaceRenamed])).toThrow(/registered twice/);
  });
});

describe("Canopy's registry", () => {
  const registry = canopyEventRegistry();

  it.each(['OrganizationAuditorAdded', 'OrganizationAuditorRemoved'])('knows %s: an organization and a user', (type) => {
    expect(registry.validate(type, { organizationId: 'org-1', userId: 'ivy' })).toEqual({ version: 1, payload: { organizationId: 'org-1', userId: 'ivy' } });
    expect(errorOf(() => registry.validate(type, { organizationId: 'org-1', userId: '' })).code).toBe(ErrorCode.INVALID_EVENT_PAYLOAD);
    expect(errorOf(() => registry.validate(type, { userId: 'ivy' })).code).toBe(ErrorCode.INVALID_EVENT_PAYLOAD);
  });
});
