#!/usr/bin/env -S node --max-semi-space-size=64
// Linked by npm at install time (before any build), so it only forwards to the built CLI.
try {
  await import('../dist/cli.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
  console.error('canopy: not built yet: run `npm run build` (or `npm start`) first');
  process.exit(2);
}
