import type { EventLog } from '@canopy/eventstore';
import type { KeyStore } from '@canopy/keystore';
import { SecretCipher } from '@canopy/keystore';
import { WorkspaceCommands } from './commands.js';
import { Directory } from './directory.js';
import { feedDirectory } from './feed.js';

export interface WorkspacesService {
  commands: WorkspaceCommands;
  directory: Directory;
  close(): Promise<void>;
}

/**
 * Starts the workspaces service on a log and a key store: folds the log
 * into the directory (resolving once caught up), then finishes any deletion
 * a crash interrupted.
 */
export async function startWorkspacesService(options: { log: EventLog; keys: KeyStore; onError?: (error: unknown) => void }): Promise<WorkspacesService> {
  const directory = new Directory();
  const feed = feedDirectory(options.log, directory, options.onError ?? (() => {}));
  await feed.caughtUp;
  const commands = new WorkspaceCommands(options.log, directory, new SecretCipher(options.keys), options.keys);
  await commands.finishDeletions();
  return { commands, directory, close: () => feed.close() };
}
