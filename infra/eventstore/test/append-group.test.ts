import { describe, expect, it } from '@jest/globals';
import { AppendGroups, type AppendOutcome, type AppendRequest } from '../src/sql/append-group.js';
import { preparedSize } from '../src/validation.js';

const request = (stream: string, ids: string[], size = 10): AppendRequest => {
  const events = ids.map((id) => ({ id, type: 'T', data: 'x'.repeat(size), metadata: '{}' }));
  return { stream, expected: 'any', events, size: preparedSize(events) };
};

/** A log that records each group it is sent and answers once released. */
function recordingLog() {
  const groups: string[][] = [];
  const releases: (() => void)[] = [];
  let position = 0n;
  const send = (group: readonly AppendRequest[]) => {
    groups.push(group.map((r) => r.stream));
    return new Promise<AppendOutcome[]>((resolve) =>
      releases.push(() =>
        resolve(group.map((r) => ({ ok: true, revision: 0n, position: (position += BigInt(r.events.length)), recordedAt: new Date(0) }))),
      ),
    );
  };
  const release = async () => {
    releases.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { groups, send, release };
}

describe('AppendGroups', () => {
  it('sends an append at once when none is in flight, and the appends made meanwhile together next, in order', async () => {
    const log = recordingLog();
    const groups = new AppendGroups(log.send, 1_000_000);
    const first = groups.submit(request('a', ['1']));
    const rest = ['b', 'c', 'd'].map((s, i) => groups.submit(request(s, [`${i + 2}`])));
    expect(log.groups).toEqual([['a']]);
    await log.release();
    expect(log.groups).toEqual([['a'], ['b', 'c', 'd']]);
    await log.release();
    expect(((await first) as { position: bigint }).position).toBe(1n);
    expect((await Promise.all(rest)).map((o) => (o as { position: bigint }).position)).toEqual([2n, 3n, 4n]);
  });

  it('never puts one event id in two appends of a group', async () => {
    const log = recordingLog();
    const groups = new AppendGroups(log.send, 1_000_000);
    const all = [groups.submit(request('a', ['1'])), groups.submit(request('b', ['2'])), groups.submit(request('c', ['3'])), groups.submit(request('d', ['2'])), groups.submit(request('e', ['4']))];
    await log.release();
    await log.release();
    await log.release();
    await Promise.all(all);
    expect(log.groups).toEqual([['a'], ['b', 'c'], ['d', 'e']]);
  });

  it('closes a group at its size, but always takes the first append', async () => {
    const log = recordingLog();
    const groups = new AppendGroups(log.send, 50);
    const all = [groups.submit(request('a', ['1'])), groups.submit(request('big', ['2'], 500)), groups.submit(request('b', ['3'], 20)), groups.submit(request('c', ['4'], 20)), groups.submit(request('d', ['5'], 20))];
    for (let i = 0; i < 4; i++) await log.release();
    await Promise.all(all);
    expect(log.groups).toEqual([['a'], ['big'], ['b', 'c'], ['d']]);
  });

  it('fails every append of a group that could not be sent, and goes on with the next', async () => {
    let calls = 0;
    const groups = new AppendGroups(async (group) => {
      calls++;
      if (calls === 2) throw new Error('connection lost');
      return group.map(() => ({ ok: true, revision: 0n, position: 1n, recordedAt: new Date(0) }));
    }, 1_000_000);
    const first = groups.submit(request('a', ['1']));
    const lost = [groups.submit(request('b', ['2'])), groups.submit(request('c', ['3']))];
    await first;
    for (const append of lost) await expect(append).rejects.toThrow('connection lost');
    await expect(groups.submit(request('d', ['4']))).resolves.toMatchObject({ ok: true });
  });
});
