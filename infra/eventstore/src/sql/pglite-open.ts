import { readFileSync } from 'node:fs';
import { access, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';

/**
 * Opens an embedded PGlite database: in memory without `dataDir`, else
 * persisted there. A new database is restored from a pristine copy of one
 * initialized earlier, rather than running initdb again: initdb takes
 * seconds, a restore a fraction of that, and a process opens several
 * databases (the log, the keys, the read models).
 *
 * The pristine copy is taken from the first database this process
 * initializes. With `CANOPY_PGLITE_TEMPLATE_DIR` set, it is also kept in
 * that directory (one file per PGlite version) for later processes: the test
 * suites set it, since they open hundreds of databases. Whoever can write
 * that directory decides what new databases contain, so point it only at a
 * directory of your own.
 */
export async function openPGlite(dataDir?: string): Promise<PGlite> {
  if (dataDir) {
    await mkdir(dataDir, { recursive: true });
    if (await exists(join(dataDir, 'PG_VERSION'))) return PGlite.create(dataDir);
  }
  const template = await (pristine ??= storedTemplate());
  if (template) return dataDir ? PGlite.create(dataDir, { loadDataDir: template }) : PGlite.create({ loadDataDir: template });
  const db = dataDir ? await PGlite.create(dataDir) : await PGlite.create();
  pristine = keepTemplate(db);
  await pristine;
  return db;
}

let pristine: Promise<Blob | undefined> | undefined;

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

function templateFile(): string | undefined {
  const dir = process.env.CANOPY_PGLITE_TEMPLATE_DIR;
  if (!dir) return undefined;
  return join(dir, `pglite-${pgliteVersion()}.tar`);
}

/** The installed PGlite's version (its package exports no package.json, so it is read beside its entry point). */
function pgliteVersion(): string {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  return (JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string }).version;
}

async function storedTemplate(): Promise<Blob | undefined> {
  const file = templateFile();
  if (!file) return undefined;
  try {
    return new Blob([await readFile(file)]);
  } catch {
    return undefined;
  }
}

/** Dumps a database that has not been used yet; written to the template directory (atomically) when one is set. */
async function keepTemplate(db: PGlite): Promise<Blob> {
  const dump = await db.dumpDataDir('none');
  const file = templateFile();
  if (file) {
    const partial = `${file}.${process.pid}.partial`;
    // Only a speed-up: a directory that cannot be written leaves each process making its own.
    await mkdir(dirname(file), { recursive: true })
      .then(async () => writeFile(partial, Buffer.from(await dump.arrayBuffer())))
      .then(() => rename(partial, file))
      .catch(() => undefined);
  }
  return dump;
}
