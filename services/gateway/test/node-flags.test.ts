import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { SERVER_NODE_ENV, SERVER_NODE_FLAGS } from '../src/node-flags.js';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../bin/canopy.js', import.meta.url));
const rootPackage = fileURLToPath(new URL('../../../package.json', import.meta.url));

describe("the server's Node flags", () => {
  it('npm start and the canopy command pass them to node, and the command runs with them', async () => {
    const start = (JSON.parse(await readFile(rootPackage, 'utf8')) as { scripts: Record<string, string> }).scripts['start']!;
    const shebang = (await readFile(bin, 'utf8')).split('\n')[0]!;
    for (const flag of SERVER_NODE_FLAGS) {
      expect(start).toContain(`node ${SERVER_NODE_FLAGS.join(' ')} services/gateway/dist/main.js`);
      expect(shebang).toContain(flag);
    }
    expect(start).toContain(`NODE_ENV=\${NODE_ENV:-${SERVER_NODE_ENV}}`);
    expect(await readFile(bin, 'utf8')).toContain(`process.env.NODE_ENV ??= '${SERVER_NODE_ENV}';`);
    // Run as the shell runs it (the #! line): node accepts the flags.
    const { stdout } = await run(bin, ['token', '--user', 'flag-check'], { env: { ...process.env, CANOPY_JWT_SECRET: 'a-secret-of-at-least-thirty-two-bytes!' } });
    expect(stdout.trim()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  });
});
