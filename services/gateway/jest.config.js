import preset from '../../jest.preset.js';

// Two test files at a time: most of a file's time is a gateway starting and
// tests waiting on sockets and timers, so two overlap well even on two cores.
export default { ...preset, rootDir: '.', maxWorkers: 2 };
