/** The events every subject writes: one shape, about 200 bytes of JSON each. */
import { randomUUID } from 'node:crypto';
import type { BenchEvent } from './target.js';

export const EVENT_TYPE = 'FileAdded';

export function benchEvent(seq: number): BenchEvent {
  return {
    type: EVENT_TYPE,
    data: {
      workspaceId: `ws-${seq % 50}`,
      path: `src/module-${seq % 97}/file-${seq}.ts`,
      size: (seq * 7919) % 65_536,
      tags: ['bench', seq % 2 ? 'odd' : 'even'],
    },
    metadata: { correlationId: randomUUID(), actor: 'bench' },
  };
}

export function benchEvents(firstSeq: number, count: number): BenchEvent[] {
  return Array.from({ length: count }, (_, i) => benchEvent(firstSeq + i));
}

/** Size of one event's JSON (data plus metadata), for the report. */
export function eventJsonBytes(): number {
  const event = benchEvent(12_345);
  return Buffer.byteLength(JSON.stringify(event.data)) + Buffer.byteLength(JSON.stringify(event.metadata));
}
