import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { CpuQuantity, formatCpu, formatMemory, MemoryQuantity, parseCpu, parseMemory } from '../src/index.js';

const Ki = 2 ** 10;
const Mi = 2 ** 20;
const Gi = 2 ** 30;
const Ti = 2 ** 40;
const Pi = 2 ** 50;

describe('parseCpu', () => {
  it.each([
    ['500m', 500],
    ['1m', 1],
    ['0m', 0],
    ['0', 0],
    ['2', 2000],
    ['1.5', 1500],
    ['0.5', 500],
    ['2.50', 2500],
    ['0.001', 1],
    ['100000', 100_000_000],
    ['1500m', 1500],
    ['unlimited', 'unlimited'],
  ] as const)('reads %j as %j', (text, value) => {
    expect(parseCpu(text)).toBe(value);
  });

  it.each(['-1', 'abc', '1e3', '', '1.5m', '0.0005', '.5', '5.', ' 2', '2 ', 'Unlimited', '1,5', '2c', '1000000000000m', '1234567890'])('refuses %j', (text) => {
    expect(parseCpu(text)).toBeUndefined();
  });
});

describe('parseMemory', () => {
  it.each([
    ['0', 0],
    ['1000', 1000],
    ['1k', 1e3],
    ['1M', 1e6],
    ['1G', 1e9],
    ['2T', 2e12],
    ['1P', 1e15],
    ['1Ki', Ki],
    ['1.5Ki', 1536],
    ['512Mi', 512 * Mi],
    ['4Gi', 4 * Gi],
    ['0.5Gi', 512 * Mi],
    ['3Ti', 3 * Ti],
    ['1Pi', Pi],
    // Whole byte counts that floating point would miss (4.1 * 1e9 is 4099999999.9999995).
    ['4.1G', 4_100_000_000],
    ['1.001k', 1001],
    ['8.2M', 8_200_000],
    ['2.000001M', 2_000_001],
    ['unlimited', 'unlimited'],
  ] as const)('reads %j as %j', (text, value) => {
    expect(parseMemory(text)).toBe(value);
  });

  it.each(['-1', 'abc', '1e3', '', '1.5', '1.1Ki', '0.1Ki', '1K', '1m', '1GB', '1 Gi', ' 1Gi', 'Unlimited', '1.0000001G', '1.Gi', '.5Gi'])('refuses %j', (text) => {
    expect(parseMemory(text)).toBeUndefined();
  });
});

describe('formatCpu and formatMemory', () => {
  it.each([
    [0, '0'],
    [1, '1m'],
    [500, '500m'],
    [1000, '1'],
    [1500, '1500m'],
    [2000, '2'],
    [100_000_000, '100000'],
    ['unlimited', 'unlimited'],
  ] as const)('formats %j millicores as %j', (value, text) => {
    expect(formatCpu(value)).toBe(text);
  });

  it.each([
    [0, '0'],
    [1, '1'],
    [1000, '1000'],
    [Ki, '1Ki'],
    [1536, '1536'],
    [512 * Mi, '512Mi'],
    [1536 * Mi, '1536Mi'],
    [4 * Gi, '4Gi'],
    [1e9, '1000000000'],
    [3 * Ti, '3Ti'],
    [Pi, '1Pi'],
    ['unlimited', 'unlimited'],
  ] as const)('formats %j bytes as %j', (value, text) => {
    expect(formatMemory(value)).toBe(text);
  });
});

describe('round trips', () => {
  it('parseCpu(formatCpu(x)) is x for any millicores up to 100,000 cores', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000_000 }), (millicores) => parseCpu(formatCpu(millicores)) === millicores),
      { numRuns: 2000 },
    );
  });

  it('parseMemory(formatMemory(x)) is x for any bytes up to 1 PiB', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Pi }), (bytes) => parseMemory(formatMemory(bytes)) === bytes),
      { numRuns: 2000 },
    );
  });

  it('and for round binary multiples, which take the unit paths', () => {
    const units = fc.constantFrom(Ki, Mi, Gi, Ti, Pi);
    fc.assert(
      fc.property(units, fc.integer({ min: 0, max: 2 ** 20 }), (unit, n) => {
        const bytes = unit * n;
        fc.pre(bytes <= Pi);
        return parseMemory(formatMemory(bytes)) === bytes;
      }),
    );
  });

  it('a decimal quantity reads as exactly its value in bytes, or not at all', () => {
    const suffixes = fc.constantFrom(['k', 1000n], ['M', 10n ** 6n], ['G', 10n ** 9n], ['T', 10n ** 12n], ['Ki', 1024n], ['Mi', 1024n ** 2n], ['Gi', 1024n ** 3n]);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 999 }), fc.stringMatching(/^\d{1,6}$/), suffixes, (whole, fraction, [suffix, unit]) => {
        const scale = 10n ** BigInt(fraction.length);
        const exact = (BigInt(whole) * scale + BigInt(fraction)) * (unit as bigint);
        const expected = exact % scale === 0n ? Number(exact / scale) : undefined;
        return parseMemory(`${whole}.${fraction}${suffix as string}`) === expected;
      }),
    );
  });
});

describe('CpuQuantity and MemoryQuantity', () => {
  it('trim and parse', () => {
    expect(CpuQuantity.parse(' 2 ')).toBe(2000);
    expect(CpuQuantity.parse('unlimited')).toBe('unlimited');
    expect(MemoryQuantity.parse(' 4Gi ')).toBe(4 * Gi);
    expect(MemoryQuantity.parse('unlimited')).toBe('unlimited');
  });

  it('hold quantities to their bounds: 100,000 cores, 1 PiB', () => {
    expect(CpuQuantity.safeParse('100000').success).toBe(true);
    expect(CpuQuantity.safeParse('100000.001').success).toBe(false);
    expect(CpuQuantity.safeParse('200000').success).toBe(false);
    expect(MemoryQuantity.safeParse('1Pi').success).toBe(true);
    expect(MemoryQuantity.safeParse(String(Pi + 1)).success).toBe(false);
    expect(MemoryQuantity.safeParse('2Pi').success).toBe(false);
  });

  it('say what a quantity looks like when it is not one', () => {
    const cpu = CpuQuantity.safeParse('abc');
    expect(cpu.success).toBe(false);
    expect(cpu.error?.issues[0]?.message).toMatch(/CPU quantity/);
    const memory = MemoryQuantity.safeParse('1.1Ki');
    expect(memory.success).toBe(false);
    expect(memory.error?.issues[0]?.message).toMatch(/whole number of bytes/);
  });
});
