import preset from '../../jest.preset.js';

// Two test files at a time: most of a file's time is a gateway starting and
// tests waiting on sockets and timers, so two overlap well even on two cores.
// Sharing the cores, a setup that starts a gateway or two may take longer
// than the preset's 30 s.
//
// A worker ends about half a second after it is told to on these machines:
// its event loop is empty at once (no handle is left open), but a worker that
// has run a dozen gateways frees a large heap on its way out. Jest's default
// half second of grace ran out on nearly every run, and it killed the worker and
// warned of a leak there was none of.
export default { ...preset, rootDir: '.', maxWorkers: 2, testTimeout: 60_000, workerGracefulExitTimeout: 5000 };
