import { describe, expect, it } from '@jest/globals';
import { CanopyError, canopyEventRegistry, ErrorCode, MAX_USAGE_ROWS, pricingStream, usageStream } from '../src/index.js';

const registry = canopyEventRegistry();

const row = { workspaceId: 'ws-a', namespace: 'shop', kind: 'Deployment', name: 'api-7f9c', pods: 2, cpuUsage: 250, cpuRequest: 500, memoryUsage: 2 ** 28, memoryRequest: 2 ** 29, gpus: 0 };
const sample = { clusterId: 'c1', start: '2026-03-01T10:00:00Z', end: '2026-03-01T10:01:00Z', capacity: { cpu: 4000, memory: 2 ** 34, gpus: 0 }, rows: [row] };
const book = { clusterId: 'c1', effectiveFrom: '2026-03-01T00:00:00Z', currency: 'USD', cpuCoreHour: '0.031611', memoryGiBHour: '0.004237' };

/** The fields a refused payload's issues name. */
function refusedFields(type: string, payload: unknown): string[] {
  try {
    registry.validate(type, payload);
  } catch (error) {
    if (error instanceof CanopyError && error.code === ErrorCode.INVALID_EVENT_PAYLOAD) return (error.details.issues as { field: string }[]).map((issue) => issue.field);
    throw error;
  }
  throw new Error(`${type} accepted ${JSON.stringify(payload)}`);
}

describe('cost events', () => {
  it('streams: usage-{cluster} and pricing-{cluster}, apart from every cluster- stream', () => {
    expect([usageStream('c1'), pricingStream('c1')]).toEqual(['usage-c1', 'pricing-c1']);
  });

  it('accepts a sample, a namespace outside any workspace, and an hour-long interval', () => {
    expect(registry.validate('UsageSampled', sample).payload).toEqual(sample);
    expect(() => registry.validate('UsageSampled', { ...sample, rows: [{ ...row, workspaceId: null, namespace: 'kube-system', kind: 'DaemonSet', name: 'kube-proxy' }] })).not.toThrow();
    expect(() => registry.validate('UsageSampled', { ...sample, end: '2026-03-01T11:00:00Z' })).not.toThrow();
  });

  it.each([
    ['an end before its start', { ...sample, end: '2026-03-01T09:59:00Z' }, ['end']],
    ['an empty interval', { ...sample, end: sample.start }, ['end']],
    ['an interval over an hour', { ...sample, end: '2026-03-01T11:00:01Z' }, ['end']],
    ['fractions of a second', { ...sample, start: '2026-03-01T10:00:00.500Z' }, ['start']],
    ['a local time', { ...sample, start: '2026-03-01T11:00:00+01:00' }, ['start']],
    ['negative usage', { ...sample, rows: [{ ...row, cpuUsage: -1 }] }, ['rows.0.cpuUsage']],
    ['fractional millicores', { ...sample, rows: [{ ...row, cpuRequest: 0.5 }] }, ['rows.0.cpuRequest']],
    ['memory over 1 PiB', { ...sample, rows: [{ ...row, memoryUsage: 2 ** 50 + 1 }] }, ['rows.0.memoryUsage']],
    ['a kind that is not a Kubernetes kind', { ...sample, rows: [{ ...row, kind: 'deployment' }] }, ['rows.0.kind']],
    ['a namespace that is not a Kubernetes name', { ...sample, rows: [{ ...row, namespace: 'Shop' }] }, ['rows.0.namespace']],
    ['the same workload twice', { ...sample, rows: [row, { ...row, pods: 1 }] }, ['rows.1']],
    ['more rows than an event holds', { ...sample, rows: Array.from({ length: MAX_USAGE_ROWS + 1 }, (_, i) => ({ ...row, name: `w${i}` })) }, ['rows']],
    ['no capacity', { ...sample, capacity: undefined }, ['capacity']],
  ])('refuses a sample with %s', (_, payload, fields) => {
    expect(refusedFields('UsageSampled', payload)).toEqual(fields);
  });

  it('accepts a price book, GPUs unpriced unless given', () => {
    expect(registry.validate('PriceBookSet', book).payload).toEqual({ ...book, gpuHour: null });
    expect(registry.validate('PriceBookSet', { ...book, gpuHour: '0.95', cpuCoreHour: '1000000' }).payload).toMatchObject({ gpuHour: '0.95', cpuCoreHour: '1000000' });
  });

  it.each([
    ['a price as a JSON number', { ...book, cpuCoreHour: 0.031611 }, ['cpuCoreHour']],
    ['a negative price', { ...book, memoryGiBHour: '-0.1' }, ['memoryGiBHour']],
    ['more than nine decimals', { ...book, cpuCoreHour: '0.0000000001' }, ['cpuCoreHour']],
    ['a price over a million', { ...book, gpuHour: '1000000.5' }, ['gpuHour']],
    ['an exponent', { ...book, cpuCoreHour: '1e-3' }, ['cpuCoreHour']],
    ['a currency that is not ISO 4217', { ...book, currency: 'usd' }, ['currency']],
    ['no effective time', { ...book, effectiveFrom: undefined }, ['effectiveFrom']],
  ])('refuses a price book with %s', (_, payload, fields) => {
    expect(refusedFields('PriceBookSet', payload)).toEqual(fields);
  });

  it('idle sharing is a cluster, an instant and a yes or no', () => {
    expect(() => registry.validate('IdleSharingSet', { clusterId: 'c1', effectiveFrom: '2026-03-01T00:00:00Z', shared: true })).not.toThrow();
    expect(refusedFields('IdleSharingSet', { clusterId: 'c1', effectiveFrom: '2026-03-01T00:00:00Z', shared: 'yes' })).toEqual(['shared']);
  });
});
