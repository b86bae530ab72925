/**
 * The V8 flags the server runs with (`npm start`, and the `canopy` command's
 * `#!/usr/bin/env -S node …` line, which must list the same): a young
 * generation of 64 MiB semi-spaces instead of 16. At thousands of events a
 * second the server allocates hundreds of MB/s that die young (events,
 * execution results, messages); with small semi-spaces many of them are
 * still in flight at each scavenge and get copied and promoted, and the
 * collector took 29% of the main thread in the workload-status benchmark
 * (19% with 64 MiB). The young generation starts at that size rather than
 * growing to it, so that the first second of a burst after a quiet spell
 * does not run with small semi-spaces.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64', '--min-semi-space-size=64'];

/**
 * The `NODE_ENV` the server runs with unless one is set (`npm start`, the
 * `canopy` command): the libraries' production mode. graphql-js otherwise
 * checks, on every type test of every field it completes, whether a value
 * comes from a second copy of graphql (about 3% of the server's time at
 * thousands of subscription events a second). Canopy's own behaviour does
 * not depend on it: Apollo Server's options that `NODE_ENV` would default
 * are all set explicitly, and development mode is `CANOPY_MODE`.
 */
export const SERVER_NODE_ENV = 'production';
