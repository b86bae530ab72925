import type { ChildProcess } from 'node:child_process';

/** Asks a benchmark's child process to stop (its own clean shutdown), and kills it if it has not exited within `killAfterMs`. */
export function stopChild(child: ChildProcess, message: object, killAfterMs: number): Promise<void> {
  return new Promise<void>((done) => {
    if (child.exitCode !== null) return done();
    const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
    child.send(message);
  });
}
