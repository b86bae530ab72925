import { readdir, readFile } from 'node:fs/promises';

/** Linux's USER_HZ: what /proc/<pid>/stat counts CPU time in (100 on every mainstream architecture). */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU time (user + system, ms) of every process on this machine whose
 * command is `command` (`postgres`: the server's postmaster, its backends
 * and its background workers), keyed by pid; undefined when /proc cannot
 * be read or no such process runs here (a server on another machine).
 */
export async function cpuOfProcesses(command: string): Promise<Map<number, number> | undefined> {
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  const found = new Map<number, number>();
  await Promise.all(
    pids.map(async (pid) => {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
      if (stat === undefined) return;
      // The command sits in parentheses and may hold spaces; the fields after it are space-separated.
      const open = stat.indexOf('(');
      const close = stat.lastIndexOf(')');
      if (stat.slice(open + 1, close) !== command) return;
      const fields = stat.slice(close + 2).split(' ');
      // utime and stime are fields 14 and 15 of the line, 12 and 13 after the command.
      found.set(Number(pid), ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND);
    }),
  );
  return found.size > 0 ? found : undefined;
}

/** Whether a PostgreSQL URL names a server on this machine (loopback, or a Unix socket): only then are its processes this machine's to count. */
export function isLocalServer(url: string): boolean {
  const { hostname, searchParams } = new URL(url);
  const host = searchParams.get('host') ?? hostname;
  return host === '' || host.startsWith('/') || host === 'localhost' || host === '[::1]' || host === '::1' || /^127\./.test(host);
}

/**
 * The CPU time `command`'s processes spent between two readings. A process
 * that started in between counts from zero; one that ended in between is
 * missed (the server's backends for the gateway's pool live through).
 */
export function cpuBetween(before: Map<number, number> | undefined, after: Map<number, number> | undefined): number | undefined {
  if (!before || !after) return undefined;
  let spent = 0;
  for (const [pid, ms] of after) spent += ms - (before.get(pid) ?? 0);
  return spent;
}
