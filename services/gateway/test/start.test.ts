import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openPgliteEventStore } from '@canopy/eventstore';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));

/** Starts `node dist/main.js` as `npm start` does, and resolves with its URL once it logs that it listens. */
function start(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [main], { env: { ...process.env, PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      for (const line of output.split('\n')) {
        if (!line.includes('canopy listening')) continue;
        child.stdout!.off('data', onData);
        resolve({ child, url: (JSON.parse(line) as { url: string }).url });
        return;
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`exited with ${code} before listening:\n${output}`)));
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

describe('npm start: the process as a user starts it', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'canopy-start-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  // A first start creates three embedded databases (log, keys, read models): several seconds each on a small machine.
  it('serves health with the log head, keeps events in its data directory across restarts, and stops cleanly on SIGTERM', async () => {
    const first = await start({ CANOPY_DATA_DIR: dataDir, CANOPY_LOG_LEVEL: 'info' });
    const health = await fetch(`${first.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', log: { headPosition: '0' } });
    expect(await stop(first.child)).toBe(0);

    const store = await openPgliteEventStore({ dataDir: join(dataDir, 'log') });
    await store.append('demo-1', [{ type: 'Tested', data: { n: 1 } }, { type: 'Tested', data: { n: 2 } }]);
    await store.close();

    const second = await start({ CANOPY_DATA_DIR: dataDir });
    try {
      expect(await (await fetch(`${second.url}/healthz`)).json()).toMatchObject({ log: { headPosition: '2' } });
      const metrics = await (await fetch(`${second.url}/metrics`)).text();
      expect(metrics).toMatch(/^canopy_log_head_position 2$/m);
      expect((await fetch(`${second.url}/nope`)).status).toBe(404);
    } finally {
      expect(await stop(second.child)).toBe(0);
    }
  }, 120_000);

  it('lets one process at a time use an embedded data directory, and takes it over at once after a crash', async () => {
    const first = await start({ CANOPY_DATA_DIR: dataDir });
    await expect(start({ CANOPY_DATA_DIR: dataDir })).rejects.toThrow(new RegExp(`exited with 2[\\s\\S]*in use by process ${first.child.pid}`));
    await new Promise((resolve) => {
      first.child.once('exit', resolve);
      first.child.kill('SIGKILL');
    });
    const second = await start({ CANOPY_DATA_DIR: dataDir });
    expect(await stop(second.child)).toBe(0);
    // A clean stop leaves the directory free.
    expect(await stop((await start({ CANOPY_DATA_DIR: dataDir })).child)).toBe(0);
  }, 120_000);

  it('refuses to start on a wrong setting, naming the variable', async () => {
    await expect(start({ CANOPY_EVENTSTORE: 'mongodb' })).rejects.toThrow(/exited with 2[\s\S]*CANOPY_EVENTSTORE/);
  });
});
