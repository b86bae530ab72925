import { describeEventStoreContract } from './contract/index.js';
import { openPgliteEventStore } from '../src/sql/index.js';

describeEventStoreContract('PGlite (embedded, in memory)', async () => {
  const store = await openPgliteEventStore();
  return { store, close: () => store.close() };
});
