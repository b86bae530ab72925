import preset from '../../jest.preset.js';

// Two test files at a time: most of a file's time is a gateway starting and
// tests waiting on sockets and timers, so two overlap well even on two cores.
// Sharing the cores, a setup that starts a gateway or two may take longer
// than the preset's 30 s.
export default { ...preset, rootDir: '.', maxWorkers: 2, testTimeout: 60_000 };
