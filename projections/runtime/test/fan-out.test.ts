import { describe, expect, it } from '@jest/globals';
import { FanOut } from '../src/fan-out.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('FanOut', () => {
  it('gives every consumer every item in order, each at its own pace', async () => {
    const fan = new FanOut<number>(2, 3);
    const producing = (async () => {
      for (let i = 0; i < 10; i++) await fan.push(i);
      fan.end();
    })();
    const drain = async (consumer: number, pause: boolean) => {
      const seen: number[] = [];
      for (let item = await fan.take(consumer); item !== undefined; item = await fan.take(consumer)) {
        seen.push(item);
        if (pause) await tick();
      }
      return seen;
    };
    const [fast, slow] = await Promise.all([drain(0, false), drain(1, true)]);
    await producing;
    expect(fast).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(slow).toEqual(fast);
  });

  it('holds the producer while the slowest consumer is `ahead` items behind, and lets it go when that one leaves', async () => {
    const fan = new FanOut<number>(2, 2);
    await fan.push(1);
    await fan.push(2);
    let third = false;
    const pushing = fan.push(3).then((accepted) => (third = accepted));
    expect(await fan.take(0)).toBe(1);
    await tick();
    expect(third).toBe(false);
    fan.leave(1);
    await pushing;
    expect(third).toBe(true);
    expect([await fan.take(0), await fan.take(0)]).toEqual([2, 3]);
  });

  it('throws the error it ended with to every consumer after the items before it', async () => {
    const fan = new FanOut<number>(2, 5);
    await fan.push(1);
    fan.end(new Error('log down'));
    for (const consumer of [0, 1]) {
      expect(await fan.take(consumer)).toBe(1);
      await expect(fan.take(consumer)).rejects.toThrow('log down');
    }
  });
});
