import { spawn } from 'node:child_process';

export interface FixtureRun {
  /** The exit code, or null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/**
 * Runs a fixture script with the current Node and hands each line it prints
 * on stdout to `onLine`, with a `kill` that SIGKILLs it (the crash tests'
 * way of pulling the plug at a chosen moment). Resolves when it exits.
 */
export function runFixture(script: string, args: readonly string[], onLine: (line: string, kill: () => void) => void): Promise<FixtureRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buffered = '';
    let stderr = '';
    const kill = () => {
      if (!child.killed) child.kill('SIGKILL');
    };
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) onLine(line, kill);
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}
