import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { UsageSampled } from '@canopy/schema';
import { isPlainValidUsage } from '../src/usage-check.js';

const row = { workspaceId: 'ws-a', namespace: 'shop', kind: 'Deployment', name: 'web.v2', pods: 2, cpuUsage: 150, cpuRequest: 200, memoryUsage: 2 ** 28, memoryRequest: 2 ** 29, gpus: 0 };
const sample = { clusterId: 'c1', start: '2026-03-01T10:00:00Z', end: '2026-03-01T10:01:00Z', capacity: { cpu: 4000, memory: 2 ** 34, gpus: 0 }, rows: [row, { ...row, workspaceId: null }] };

/** The contract's verdict: the payload it returns, or undefined when it refuses. */
function contract(data: unknown): unknown {
  const result = UsageSampled.payload.safeParse(data);
  return result.success ? result.data : undefined;
}

describe('the quick usage check', () => {
  it('accepts a plain valid sample, exactly as the contract returns it', () => {
    expect(isPlainValidUsage(sample)).toBe(true);
    expect(contract(sample)).toEqual(sample);
  });

  it.each([
    ['an impossible date', { ...sample, start: '2026-02-29T10:00:00Z', end: '2026-02-29T10:01:00Z' }],
    ['hour 24', { ...sample, end: '2026-03-01T24:00:00Z' }],
    ['milliseconds', { ...sample, end: '2026-03-01T10:01:00.000Z' }],
    ['an interval longer than an hour', { ...sample, end: '2026-03-01T11:00:01Z' }],
    ['an empty interval', { ...sample, end: sample.start }],
    ['an extra field (the contract would strip it)', { ...sample, note: 'x' }],
    ['an extra row field', { ...sample, rows: [{ ...row, extra: 1 }] }],
    ['a repeated workload', { ...sample, rows: [row, { ...row, pods: 3 }] }],
    ['a fractional quantity', { ...sample, rows: [{ ...row, cpuUsage: 1.5 }] }],
    ['a negative quantity', { ...sample, capacity: { ...sample.capacity, gpus: -1 } }],
    ['memory beyond 1 PiB', { ...sample, rows: [{ ...row, memoryRequest: 2 ** 50 + 1 }] }],
    ['an upper-case namespace', { ...sample, rows: [{ ...row, namespace: 'Shop' }] }],
    ['a lower-case kind', { ...sample, rows: [{ ...row, kind: 'deployment' }] }],
    ['an empty cluster id', { ...sample, clusterId: '' }],
    ['a missing field', { ...sample, capacity: { cpu: 1, memory: 1 } }],
  ])('leaves %s to the contract', (_, data) => {
    expect(isPlainValidUsage(data)).toBe(false);
  });

  it('never accepts what the contract refuses or would change (generated and mutated samples)', () => {
    const text = fc.oneof(fc.constantFrom('shop', 'a', 'web-1', 'x.y', 'Deployment', '', '-a', 'a-', 'A'), fc.string({ maxLength: 6 }));
    const quantity = fc.oneof(fc.integer({ min: -2, max: 2 ** 51 }), fc.constantFrom(0, 1, 1.5, Number.NaN, 2 ** 50, 100_000_000, 100_000_001));
    const instant = fc.oneof(
      fc.integer({ min: 0, max: 400 * 86_400 }).map((s) => new Date(Date.parse('2026-01-01T00:00:00Z') + s * 1000).toISOString().replace('.000Z', 'Z')),
      fc.constantFrom('2026-02-30T00:00:00Z', '2024-02-29T00:00:00Z', '2026-13-01T00:00:00Z', '2026-01-01T23:59:60Z', '0999-01-01T00:00:00Z', '2026-01-01 00:00:00Z'),
    );
    const anyRow = fc.record({ workspaceId: fc.oneof(fc.constant(null), text), namespace: text, kind: text, name: text, pods: quantity, cpuUsage: quantity, cpuRequest: quantity, memoryUsage: quantity, memoryRequest: quantity, gpus: quantity });
    const anySample = fc.record({ clusterId: text, start: instant, end: instant, capacity: fc.record({ cpu: quantity, memory: quantity, gpus: quantity }), rows: fc.array(anyRow, { maxLength: 3 }) });
    fc.assert(
      fc.property(anySample, (data) => {
        if (isPlainValidUsage(data)) expect(contract(data)).toEqual(data);
      }),
      { numRuns: 3000 },
    );
  });
});
