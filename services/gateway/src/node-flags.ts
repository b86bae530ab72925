/**
 * The V8 flags the server runs with (`npm start`, and the `canopy` command's
 * `#!/usr/bin/env -S node …` line, which must list the same): a young
 * generation of 64 MiB semi-spaces instead of 16. At thousands of events a
 * second the server allocates hundreds of MB/s that die young (events,
 * execution results, messages); with small semi-spaces many of them are
 * still in flight at each scavenge and get copied and promoted, and the
 * collector took 29% of the main thread in the workload-status benchmark
 * (19% with 64 MiB).
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];
