import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ErrorCode, pricingStream } from '@canopy/schema';
import { dataOf, errorOf, onWorkspace, startHarness, type Harness, type Team } from './harness.js';

const SET_PRICE_BOOK = `mutation($input: PriceBookInput!) {
  setPriceBook(input: $input) { clusterId changed position pricing { clusterId priceBooks { effectiveFrom currency cpuCoreHour memoryGiBHour gpuHour } idleSharing { effectiveFrom shared } } }
}`;
const SET_IDLE_SHARING = `mutation($input: IdleSharingInput!) {
  setIdleSharing(input: $input) { clusterId changed position pricing { idleSharing { effectiveFrom shared } } }
}`;
const PRICING = onWorkspace('clusterPricing { clusterId priceBooks { effectiveFrom currency cpuCoreHour memoryGiBHour gpuHour } idleSharing { effectiveFrom shared } }');

const book = (clusterId: string, over: Record<string, unknown> = {}) => ({
  clusterId,
  effectiveFrom: '2026-03-01T12:00:00Z',
  currency: 'EUR',
  cpuCoreHour: '0.04',
  memoryGiBHour: '0.005',
  gpuHour: '1.2',
  ...over,
});

describe('setting price books and idle sharing', () => {
  let h: Harness;
  let team: Team;
  let other: Team;
  beforeAll(async () => {
    h = await startHarness();
    team = await h.team('ada');
    other = await h.team('zed');
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  it('appends a price book for an organization owner, answers the new state and reads it back', async () => {
    h.clock.now = new Date('2026-03-01T09:15:00Z');
    const set = dataOf(await h.run('ada', SET_PRICE_BOOK, { input: book(team.east) })).setPriceBook;
    const expected = { effectiveFrom: '2026-03-01T12:00:00Z', currency: 'EUR', cpuCoreHour: '0.04', memoryGiBHour: '0.005', gpuHour: '1.2' };
    expect(set).toMatchObject({ clusterId: team.east, changed: true, pricing: { clusterId: team.east, priceBooks: [expected], idleSharing: [] } });
    expect(BigInt(set.position)).toBeGreaterThan(0n);
    const events = await h.events(pricingStream(team.east));
    expect(events.map((e) => [e.type, e.data, e.metadata.actor])).toEqual([['PriceBookSet', { clusterId: team.east, ...expected }, 'ada']]);
    // ada's own read waits for her write (read-your-writes); a viewer reads it once projected.
    const mine = dataOf(await h.run('ada', PRICING, { id: team.workspaceId }))._entities[0].clusterPricing;
    expect(mine).toEqual([
      { clusterId: team.east, priceBooks: [expected], idleSharing: [] },
      { clusterId: team.west, priceBooks: [], idleSharing: [] },
    ]);
    await h.sync();
    expect(dataOf(await h.run('dan', PRICING, { id: team.workspaceId }))._entities[0].clusterPricing).toEqual(mine);
  });

  it('appends nothing when the same book is set again, and replaces a book set at the same time', async () => {
    const again = dataOf(await h.run('ada', SET_PRICE_BOOK, { input: book(team.east, { cpuCoreHour: '0.040' }) })).setPriceBook;
    expect(again).toMatchObject({ changed: false, position: null });
    const replaced = dataOf(await h.run('ada', SET_PRICE_BOOK, { input: book(team.east, { cpuCoreHour: '0.05', gpuHour: null }) })).setPriceBook;
    expect(replaced.changed).toBe(true);
    expect(replaced.pricing.priceBooks).toEqual([{ effectiveFrom: '2026-03-01T12:00:00Z', currency: 'EUR', cpuCoreHour: '0.05', memoryGiBHour: '0.005', gpuHour: null }]);
    expect(await h.events(pricingStream(team.east))).toHaveLength(2);
    await h.sync();
    const read = dataOf(await h.run('dan', PRICING, { id: team.workspaceId }))._entities[0].clusterPricing[0];
    expect(read.priceBooks).toEqual(replaced.pricing.priceBooks);
  });

  it('sets idle sharing, effective within the current hour too', async () => {
    h.clock.now = new Date('2026-03-01T10:20:00Z');
    const set = dataOf(await h.run('ada', SET_IDLE_SHARING, { input: { clusterId: team.west, effectiveFrom: '2026-03-01T10:00:00Z', shared: true } })).setIdleSharing;
    expect(set).toMatchObject({ clusterId: team.west, changed: true, pricing: { idleSharing: [{ effectiveFrom: '2026-03-01T10:00:00Z', shared: true }] } });
    const same = dataOf(await h.run('ada', SET_IDLE_SHARING, { input: { clusterId: team.west, effectiveFrom: '2026-03-01T10:00:00+00:00', shared: true } })).setIdleSharing;
    expect(same.changed).toBe(false);
    expect((await h.events(pricingStream(team.west))).map((e) => e.type)).toEqual(['IdleSharingSet']);
  });

  it('refuses members of the workspace who do not own the organization (FORBIDDEN) and everyone else (NOT_FOUND), appending nothing', async () => {
    const before = (await h.events(pricingStream(team.east))).length;
    for (const userId of ['bob', 'carol', 'dan']) {
      expect(errorOf(await h.run(userId, SET_PRICE_BOOK, { input: book(team.east) }))).toMatchObject({ code: ErrorCode.FORBIDDEN, details: { field: 'clusterId' } });
      expect(errorOf(await h.run(userId, SET_IDLE_SHARING, { input: { clusterId: team.east, effectiveFrom: '2026-03-01T12:00:00Z', shared: true } })).code).toBe(ErrorCode.FORBIDDEN);
    }
    // eve has no role anywhere; zed owns another organization; nobody attached `nowhere`.
    for (const [userId, clusterId] of [['eve', team.east], ['zed', team.east], ['ada', other.east], ['ada', 'nowhere']] as const) {
      expect(errorOf(await h.run(userId, SET_PRICE_BOOK, { input: book(clusterId) }))).toMatchObject({ code: ErrorCode.NOT_FOUND, details: { field: 'clusterId' } });
    }
    expect(await h.events(pricingStream(team.east))).toHaveLength(before);
    expect(await h.events(pricingStream(other.east))).toHaveLength(0);
    expect(await h.events(pricingStream('nowhere'))).toHaveLength(0);
    // zed sets his own cluster's prices.
    expect(dataOf(await h.run('zed', SET_PRICE_BOOK, { input: book(other.east) })).setPriceBook.changed).toBe(true);
  });

  it('refuses bad input with BAD_USER_INPUT naming the field, appending nothing', async () => {
    h.clock.now = new Date('2026-03-01T10:20:00Z');
    const before = (await h.events(pricingStream(team.east))).length;
    const cases: [Record<string, unknown>, string][] = [
      [{ effectiveFrom: '2026-03-01T09:59:59Z' }, 'effectiveFrom'],
      [{ effectiveFrom: '2026-03-01' }, 'effectiveFrom'],
      [{ effectiveFrom: '2026-03-01T12:00:00.500Z' }, 'effectiveFrom'],
      [{ effectiveFrom: 'tomorrow' }, 'effectiveFrom'],
      [{ currency: 'usd' }, 'currency'],
      [{ cpuCoreHour: '-1' }, 'cpuCoreHour'],
      [{ cpuCoreHour: '1e3' }, 'cpuCoreHour'],
      [{ cpuCoreHour: '0.0000000001' }, 'cpuCoreHour'],
      [{ memoryGiBHour: '1000001' }, 'memoryGiBHour'],
      [{ memoryGiBHour: '' }, 'memoryGiBHour'],
      [{ gpuHour: 'free' }, 'gpuHour'],
      [{ clusterId: '' }, 'clusterId'],
    ];
    for (const [over, field] of cases) {
      const error = errorOf(await h.run('ada', SET_PRICE_BOOK, { input: book(team.east, over) }));
      expect([over, error.code, error.details?.field]).toEqual([over, ErrorCode.BAD_USER_INPUT, field]);
    }
    const sharing = errorOf(await h.run('ada', SET_IDLE_SHARING, { input: { clusterId: team.east, effectiveFrom: '2026-02-28T00:00:00Z', shared: false } }));
    expect([sharing.code, sharing.details?.field]).toEqual([ErrorCode.BAD_USER_INPUT, 'effectiveFrom']);
    expect(await h.events(pricingStream(team.east))).toHaveLength(before);
  });

  it('loses no update when writers race on one stream', async () => {
    h.clock.now = new Date('2026-03-02T00:00:00Z');
    const times = ['01', '02', '03', '04', '05', '06'].map((hour) => `2026-03-02T${hour}:00:00Z`);
    const results = await Promise.all(times.map((effectiveFrom, index) => h.commands.setPriceBook({ userId: 'ada' }, book(team.west, { effectiveFrom, cpuCoreHour: `0.0${index + 1}` }))));
    expect(results.every((result) => result.changed)).toBe(true);
    const events = await h.events(pricingStream(team.west));
    expect(events.filter((e) => e.type === 'PriceBookSet').map((e) => (e.data as { effectiveFrom: string }).effectiveFrom).sort()).toEqual(times);
    expect((await h.commands.pricing(team.west)).priceBooks.map((b) => [b.effectiveFrom, b.cpuCoreHour])).toEqual(times.map((t, i) => [t, `0.0${i + 1}`]));
  });

  it('shows a workspace and its pricing to nobody without a role in it', async () => {
    await h.sync();
    expect(dataOf(await h.run('eve', PRICING, { id: team.workspaceId }))._entities).toEqual([null]);
    expect(dataOf(await h.run('zed', PRICING, { id: team.workspaceId }))._entities).toEqual([null]);
    expect(dataOf(await h.run('zed', PRICING, { id: other.workspaceId }))._entities[0].clusterPricing[0].priceBooks).toHaveLength(1);
    expect(dataOf(await h.run('eve', 'query { defaultPriceBook { effectiveFrom currency cpuCoreHour memoryGiBHour gpuHour } }')).defaultPriceBook).toEqual({
      effectiveFrom: null,
      currency: 'USD',
      cpuCoreHour: '0.031611',
      memoryGiBHour: '0.004237',
      gpuHour: '0.95',
    });
  });
});
