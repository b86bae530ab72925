#!/usr/bin/env -S node --max-semi-space-size=64 --min-semi-space-size=64
// Linked by npm at install time (before any build), so it only forwards to the built CLI.
// Libraries' production mode (see src/node-flags.ts), set before any of them loads.
process.env.NODE_ENV ??= 'production';
try {
  await import('../dist/cli.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
  console.error('canopy: not built yet: run `npm run build` (or `npm start`) first');
  process.exit(2);
}
