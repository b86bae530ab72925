import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

export const LOCK_FILE = 'canopy.pid';

/** Another live process has the data directory open. */
export class DataDirInUse extends Error {
  override name = 'DataDirInUse';
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `The data directory ${dataDir} is in use by process ${pid} (another canopy server or command). ` +
        'The embedded databases in it can be opened by one process at a time: stop that process first, or use CANOPY_EVENTSTORE=postgres for a log that several processes share.',
    );
  }
}

/**
 * Takes the data directory for this process, as PostgreSQL's postmaster.pid
 * does: PGlite does not stop a second process from opening the same
 * database, and two writers would corrupt it. The lock file holds the
 * owner's pid; one whose process is gone (a crash) is taken over at once,
 * so a restart after SIGKILL never waits. Resolves to the release function.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  await mkdir(dataDir, { recursive: true });
  const file = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return async () => {
        if ((await ownerOf(file)) === process.pid) await rm(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = await ownerOf(file);
    if (owner !== undefined && owner !== process.pid && isAlive(owner)) throw new DataDirInUse(dataDir, owner);
    // Left behind by a process that is gone (or unreadable half-written): take it over.
    await rm(file, { force: true });
  }
  throw new Error(`Could not take the lock ${file}: other processes keep racing for it.`);
}

async function ownerOf(file: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
