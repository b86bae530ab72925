import type { AppendResult, EventLog } from '@canopy/eventstore';
import { CanopyError, ErrorCode, isCanopyError, KubernetesSubdomain, type OrganizationKind } from '@canopy/schema';
import type { SecretCipher } from '@canopy/keystore';
import { can, workspaceNotFound, type Actor } from '../domain/access.js';
import { parseField } from '../domain/input.js';
import { decideOrganization, initialOrganizationState, type OrganizationCommand, type OrganizationEvent } from '../domain/organization.js';
import { decideWorkspace, nextSecretVersion, SecretValues, type WorkspaceCommand } from '../domain/workspace.js';
import type { SealedValue, WorkspaceEvent } from '../domain/workspace-state.js';
import { appendFolded, replayedResult } from './append-folded.js';
import { effectiveRole, type Directory, type WorkspaceView } from './directory.js';
import { commandHash, newEntityId, organizationStream, versionOf, workspaceStream, type Idempotency } from './streams.js';

/** Who sends a command, with the client's optional idempotency key. */
export interface CommandContext {
  userId: string;
  idempotencyKey?: string;
  correlationId?: string;
}

export interface CommandResult {
  /** The stream's version after the command (unchanged when it changed nothing). */
  version: number;
  /** False when the command was already true (nothing appended) or replayed from its idempotency key. */
  changed: boolean;
  replayed: boolean;
  /**
   * The log position the answer reflects: the last event appended, or for a
   * command that appended nothing, everything the decision saw. Queries see
   * the change once the read models reach it.
   */
  position: bigint | undefined;
}

export interface Keys {
  destroy(workspaceId: string): Promise<void>;
}

/** How often an organization-level command is re-decided when another writer got there first. */
const ORGANIZATION_ATTEMPTS = 8;

/**
 * The command side: load (from the directory) → decide → append with the
 * revision decided on. Workspace commands carry the version the client
 * saw; a stale one is a CONFLICT naming the current version. Organization
 * commands (create, rename, delete, owners) re-decide on conflict, which is
 * safe because every rule is checked again on the fresh state.
 */
export class WorkspaceCommands {
  constructor(
    private readonly log: EventLog,
    private readonly directory: Directory,
    private readonly cipher: SecretCipher,
    private readonly keys: Keys,
  ) {}

  async createOrganization(context: CommandContext, input: { name: string; kind: OrganizationKind }): Promise<CommandResult & { organizationId: string }> {
    const idempotency = scope(context);
    const organizationId = newEntityId(idempotency, 'organization');
    const command: OrganizationCommand = { type: 'CreateOrganization', organizationId, name: input.name, kind: input.kind, defaultWorkspaceId: newEntityId(idempotency, 'default-workspace') };
    return { organizationId, ...(await this.organizationCommand(context, organizationId, command, { allowNew: true })) };
  }

  async addOrganizationOwner(context: CommandContext, organizationId: string, userId: string): Promise<CommandResult> {
    return this.organizationCommand(context, organizationId, { type: 'AddOrganizationOwner', userId });
  }

  async removeOrganizationOwner(context: CommandContext, organizationId: string, userId: string): Promise<CommandResult> {
    return this.organizationCommand(context, organizationId, { type: 'RemoveOrganizationOwner', userId });
  }

  /** Auditors read every workspace's history in the organization (deleted ones too) and change nothing; organization owners only. */
  async addOrganizationAuditor(context: CommandContext, organizationId: string, userId: string): Promise<CommandResult> {
    return this.organizationCommand(context, organizationId, { type: 'AddOrganizationAuditor', userId });
  }

  async removeOrganizationAuditor(context: CommandContext, organizationId: string, userId: string): Promise<CommandResult> {
    return this.organizationCommand(context, organizationId, { type: 'RemoveOrganizationAuditor', userId });
  }

  async createWorkspace(
    context: CommandContext,
    input: { organizationId: string; name: string; kind: 'project' | 'environment'; stage?: string | null; description?: string },
  ): Promise<CommandResult & { workspaceId: string }> {
    const workspaceId = newEntityId(scope(context), `workspace:${input.organizationId}`);
    const { organizationId, ...rest } = input;
    const result = await this.organizationCommand(context, organizationId, { type: 'CreateWorkspace', workspaceId, ...rest });
    // The answer's version is the workspace's own (0 for a new one), not its organization's.
    return { workspaceId, ...result, version: this.directory.workspace(workspaceId)?.version ?? 0 };
  }

  /** The id a cluster attached by this command gets (stable under an idempotency key). */
  newClusterId(context: CommandContext, workspaceId: string): string {
    return newEntityId(scope(context), `cluster:${workspaceId}`);
  }

  /**
   * Renaming is decided on the organization stream, where names are unique,
   * and counts into the workspace's version: the expected version is checked
   * again on every attempt, so of two renames based on one version the second
   * gets CONFLICT.
   */
  async renameWorkspace(context: CommandContext, workspaceId: string, expectedVersion: number, name: string): Promise<CommandResult> {
    const workspace = this.requireWorkspace(workspaceId, context.userId);
    await this.checkVersion(workspace, expectedVersion);
    const role = effectiveRole(workspace, context.userId);
    const result = await this.organizationCommand(
      context,
      workspace.organizationId,
      { type: 'RenameWorkspace', workspaceId, name },
      { role, precondition: () => this.checkVersion(this.requireWorkspace(workspaceId, context.userId), expectedVersion) },
    );
    return { ...result, version: this.requireWorkspace(workspaceId, context.userId).version };
  }

  /**
   * Deleting closes the workspace stream at the expected version (so nothing
   * can be attached meanwhile), then removes it from its organization and
   * destroys its data key. A crash in between is finished by
   * `finishDeletions` at the next start.
   */
  async deleteWorkspace(context: CommandContext, workspaceId: string, expectedVersion: number): Promise<CommandResult> {
    const fingerprint = { type: 'DeleteWorkspace' };
    const idempotency = scope(context);
    const replay = this.workspaceReplay(idempotency, workspaceId, this.workspaceHash(idempotency, workspaceId, expectedVersion, fingerprint));
    if (replay) return replay;
    const workspace = this.requireWorkspace(workspaceId, context.userId);
    const actor: Actor = { userId: context.userId, role: effectiveRole(workspace, context.userId) };
    decideOrganization({ type: 'DeleteWorkspace', workspaceId, clusterCount: workspace.state.clusters.size }, workspace.organization, actor);
    const result = await this.workspaceCommand(context, workspaceId, expectedVersion, fingerprint, () => ({ type: 'CloseWorkspace', organizationId: workspace.organizationId }));
    if (!result.changed) return result;
    await this.finishDeletion(context.userId, workspace.organizationId, workspaceId);
    return { ...result, position: this.directory.position };
  }

  /** Completes deletions a crash interrupted: the organization still lists a workspace whose stream is closed. */
  async finishDeletions(systemActor = 'canopy'): Promise<number> {
    const pending = this.directory.unfinishedDeletions();
    for (const { workspaceId, organizationId } of pending) await this.finishDeletion(systemActor, organizationId, workspaceId);
    return pending.length;
  }

  /**
   * Runs a command on one workspace. `fingerprint` is the command as the
   * client sent it (it identifies a retry); `build` makes the command to
   * decide from the current workspace.
   */
  async workspaceCommand(
    context: CommandContext,
    workspaceId: string,
    expectedVersion: number,
    fingerprint: unknown,
    build: (workspace: WorkspaceView) => WorkspaceCommand | Promise<WorkspaceCommand>,
  ): Promise<CommandResult> {
    const stream = workspaceStream(workspaceId);
    const idempotency = scope(context);
    const hash = this.workspaceHash(idempotency, workspaceId, expectedVersion, fingerprint);
    const replay = this.workspaceReplay(idempotency, workspaceId, hash);
    if (replay) return replay;
    await this.checkVersion(this.requireWorkspace(workspaceId, context.userId), expectedVersion);
    const current = this.requireWorkspace(workspaceId, context.userId);
    const command = await build(current);
    const actor: Actor = { userId: context.userId, role: effectiveRole(current, context.userId) };
    const events = decideWorkspace(workspaceId, command, current.state, actor);
    if (events.length === 0) return { version: current.version, changed: false, replayed: false, position: this.directory.position };
    let appended: AppendResult;
    try {
      appended = await this.append(stream, events, current.streamRevision ?? 'no_stream', context, idempotency, hash);
    } catch (error) {
      if (!isCanopyError(error, ErrorCode.WRONG_EXPECTED_VERSION) && !isCanopyError(error, ErrorCode.DUPLICATE_EVENT_ID)) throw error;
      await this.directory.catchUp(this.log, stream);
      const replayed = this.workspaceReplay(idempotency, workspaceId, hash);
      if (replayed) return replayed;
      throw this.conflict(workspaceId);
    }
    return { version: current.version + events.length, changed: true, replayed: false, position: appended.position };
  }

  /** Seals each value with the workspace's data key before anything is decided or written; the plain values never reach the log. */
  async writeSecret(context: CommandContext, workspaceId: string, expectedVersion: number, name: string, values: readonly { key: string; value: string }[]): Promise<CommandResult> {
    const entries = parseField('values', SecretValues, values);
    const secretName = parseField('name', KubernetesSubdomain, name);
    // The fingerprint leaves the values out: a hash of a weak secret could be guessed from the log.
    const fingerprint = { type: 'WriteSecret', name: secretName, keys: entries.map((entry) => entry.key) };
    return this.workspaceCommand(context, workspaceId, expectedVersion, fingerprint, async (workspace) => {
      const version = nextSecretVersion(workspace.state, secretName);
      const sealed: Record<string, SealedValue> = {};
      // Only a caller who may write secrets gets a data key made; the decider refuses the others.
      if (can(effectiveRole(workspace, context.userId), 'manageSecrets')) {
        for (const { key, value } of entries) sealed[key] = await this.cipher.seal(workspaceId, value, secretAad(workspaceId, secretName, version, key));
      }
      return { type: 'WriteSecret', name: secretName, version, values: sealed };
    });
  }

  private async organizationCommand(
    context: CommandContext,
    organizationId: string,
    command: OrganizationCommand,
    options: { allowNew?: boolean; role?: Actor['role']; precondition?: () => Promise<void> } = {},
  ): Promise<CommandResult> {
    const stream = organizationStream(organizationId);
    const idempotency = scope(context);
    const hash = idempotency.key === undefined ? undefined : commandHash({ organizationId: options.allowNew ? undefined : organizationId, command });
    for (let attempt = 1; ; attempt++) {
      const replay = this.replay(idempotency, stream, hash);
      if (replay) return replay;
      await options.precondition?.();
      const folded = this.directory.organization(organizationId);
      if (!folded && !options.allowNew) throw new CanopyError(ErrorCode.NOT_FOUND, `Organization ${organizationId} does not exist.`, { organizationId });
      const state = folded?.state;
      if (state && !options.allowNew && !state.owners.has(context.userId) && options.role === undefined && !this.hasAnyRole(organizationId, context.userId)) {
        throw new CanopyError(ErrorCode.NOT_FOUND, `Organization ${organizationId} does not exist.`, { organizationId });
      }
      const events = decideOrganization(command, state ?? initialOrganizationState, { userId: context.userId, role: options.role });
      const revision = folded?.revision;
      if (events.length === 0) return { version: versionOf(revision), changed: false, replayed: false, position: this.directory.position };
      try {
        const appended = await this.append(stream, events, revision ?? 'no_stream', context, idempotency, hash);
        return { version: versionOf(revision) + events.length, changed: true, replayed: false, position: appended.position };
      } catch (error) {
        const retryable = isCanopyError(error, ErrorCode.WRONG_EXPECTED_VERSION) || isCanopyError(error, ErrorCode.DUPLICATE_EVENT_ID);
        if (!retryable || attempt >= ORGANIZATION_ATTEMPTS) throw retryable ? this.organizationBusy(organizationId) : error;
        await this.directory.catchUp(this.log, stream);
      }
    }
  }

  private async finishDeletion(actor: string, organizationId: string, workspaceId: string): Promise<void> {
    const stream = organizationStream(organizationId);
    for (let attempt = 1; ; attempt++) {
      const folded = this.directory.organization(organizationId);
      const entry = folded?.state.workspaces.get(workspaceId);
      if (!folded || !entry) break;
      try {
        await this.append(stream, [{ type: 'WorkspaceDeleted', data: { organizationId, workspaceId, name: entry.name } }], folded.revision ?? 'no_stream', { userId: actor }, { actor, key: undefined }, undefined);
        break;
      } catch (error) {
        if (!isCanopyError(error, ErrorCode.WRONG_EXPECTED_VERSION) || attempt >= ORGANIZATION_ATTEMPTS) throw error;
        await this.directory.catchUp(this.log, stream);
      }
    }
    await this.keys.destroy(workspaceId);
  }

  /** Appends with deterministic ids under an idempotency key, then folds the events right away (read-your-writes). */
  private append(
    stream: string,
    events: readonly (OrganizationEvent | WorkspaceEvent)[],
    expectedRevision: bigint | 'no_stream',
    context: CommandContext,
    idempotency: Idempotency,
    hash: string | undefined,
  ): Promise<AppendResult> {
    return appendFolded(this.log, this.directory, { stream, events, expectedRevision, context, idempotency, hash });
  }

  /** A workspace command's first result under this key; its version counts the renames known now (the same unless one came between). */
  private workspaceReplay(idempotency: Idempotency, workspaceId: string, hash: string | undefined): CommandResult | undefined {
    const replay = this.replay(idempotency, workspaceStream(workspaceId), hash);
    if (!replay) return undefined;
    const organizationId = this.directory.workspace(workspaceId)?.organizationId;
    const renames = organizationId === undefined ? 0 : (this.directory.organization(organizationId)?.state.workspaces.get(workspaceId)?.renames ?? 0);
    return { ...replay, version: replay.version + renames };
  }

  /** The first result of a command already written under this idempotency key, or undefined. */
  private replay(idempotency: Idempotency, stream: string, hash: string | undefined): CommandResult | undefined {
    return replayedResult(this.directory, idempotency, stream, hash);
  }

  /** What identifies a retry: needed only under an idempotency key. */
  private workspaceHash(idempotency: Idempotency, workspaceId: string, expectedVersion: number, fingerprint: unknown): string | undefined {
    return idempotency.key === undefined ? undefined : commandHash({ workspaceId, expectedVersion, command: fingerprint });
  }

  private requireWorkspace(workspaceId: string, userId: string): WorkspaceView {
    const workspace = this.directory.workspace(workspaceId);
    if (workspace && effectiveRole(workspace, userId) === undefined && workspace.organization.auditors.has(userId)) {
      // An auditor reads the workspace's history, so it exists for them; auditing grants no role to change it.
      throw new CanopyError(ErrorCode.FORBIDDEN, 'An auditor of the organization reads its history and changes nothing.', { organizationId: workspace.organizationId, workspaceId });
    }
    if (!workspace || effectiveRole(workspace, userId) === undefined) throw workspaceNotFound(workspaceId);
    return workspace;
  }

  /** A version ahead of ours means another process wrote: read the stream before judging. */
  private async checkVersion(workspace: WorkspaceView, expectedVersion: number): Promise<void> {
    if (!Number.isInteger(expectedVersion) || expectedVersion < 0) {
      throw new CanopyError(ErrorCode.BAD_USER_INPUT, 'expectedVersion must be a whole number, 0 or more.', { field: 'expectedVersion' });
    }
    if (expectedVersion > workspace.version) {
      await this.directory.catchUp(this.log, workspaceStream(workspace.workspaceId));
      await this.directory.catchUp(this.log, organizationStream(workspace.organizationId));
    }
    const current = this.directory.workspace(workspace.workspaceId);
    if (!current) throw workspaceNotFound(workspace.workspaceId);
    if (current.version !== expectedVersion) throw this.conflict(workspace.workspaceId);
  }

  private conflict(workspaceId: string): CanopyError {
    const currentVersion = this.directory.workspace(workspaceId)?.version ?? 0;
    return new CanopyError(ErrorCode.CONFLICT, `The workspace changed meanwhile: it is at version ${currentVersion}. Reload it and try again.`, {
      field: 'expectedVersion',
      workspaceId,
      currentVersion,
    });
  }

  private organizationBusy(organizationId: string): CanopyError {
    return new CanopyError(ErrorCode.CONFLICT, `Organization ${organizationId} is changing too fast to apply this change; try again.`, { organizationId });
  }

  /** Whether the caller knows the organization: a role in one of its workspaces, or auditing it (they read its history, so they are refused, not told it does not exist). */
  private hasAnyRole(organizationId: string, userId: string): boolean {
    const folded = this.directory.organization(organizationId);
    if (!folded) return false;
    if (folded.state.auditors.has(userId)) return true;
    for (const workspaceId of folded.state.workspaces.keys()) {
      const workspace = this.directory.workspace(workspaceId);
      if (workspace && effectiveRole(workspace, userId)) return true;
    }
    return false;
  }
}

/** Binds a sealed value to its place, so a ciphertext moved to another secret, key or version does not open. */
export function secretAad(workspaceId: string, name: string, version: number, key: string): string {
  return `canopy/secret/v1/${workspaceId}/${name}/${version}/${key}`;
}

function scope(context: CommandContext): Idempotency {
  return { actor: context.userId, key: context.idempotencyKey };
}


