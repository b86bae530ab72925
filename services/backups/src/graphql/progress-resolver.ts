import type { ReadDomainEvent, Subscription as LogSubscription } from '@canopy/eventstore';
import { CanopyError, ErrorCode, isCanopyError } from '@canopy/schema';
import { organizationStream, workspaceNotFound, workspaceStream } from '@canopy/workspaces';
import { Arg, ID, Resolver, Root, Subscription, type SubscribeResolverData } from 'type-graphql';
import { BACKUP_PREFIX, backupStream, streamOf } from '../app/streams.js';
import { initialBackupState, type BackupState } from '../domain/backup.js';
import type { BackupsContext, BackupsLive } from './context.js';
import { fold, isBackupEvent, isOver, progressItem } from './progress-items.js';
import { BackupProgressItem } from './types.js';

interface ProgressArgs {
  workspaceId: string;
  backupId?: string | null;
  after?: string | null;
}

/** What the subscription's source yields: an item, or the error that ends it (delivered as the last result, then the subscription completes). */
type Delivery = { item: BackupProgressItem } | { end: CanopyError };

/** Events that can take the caller's role in the workspace away. */
const ACCESS_CHANGES = new Set(['MemberRoleChanged', 'MemberRemoved', 'OrganizationOwnerRemoved', 'WorkspaceDeleted']);

@Resolver()
export class BackupProgressResolver {
  @Subscription(() => BackupProgressItem, {
    description:
      "A backup's progress as its clusters report it, in log order; with backupId, that backup (from its request, or after `after`) until it finishes; " +
      "without, every backup of the workspace from now (or after `after`). Every role in the workspace may subscribe; it ends with FORBIDDEN when the caller's role goes.",
    subscribe: ({ args, context }: SubscribeResolverData<unknown, ProgressArgs, BackupsContext>) => subscribeProgress(args, context),
  })
  backupProgress(
    @Arg('workspaceId', () => ID) _workspaceId: string,
    @Arg('backupId', () => ID, { nullable: true, description: 'One backup: the subscription completes after its last event.' }) _backupId: string | null,
    @Arg('after', () => String, { nullable: true, description: 'The cursor of the last item received: resume right after it.' }) _after: string | null,
    @Root() delivery: Delivery,
  ): BackupProgressItem {
    if ('end' in delivery) throw delivery.end;
    return delivery.item;
  }
}

async function subscribeProgress(args: ProgressArgs, context: BackupsContext): Promise<AsyncIterableIterator<Delivery>> {
  const live = context.live;
  if (!live) throw new CanopyError(ErrorCode.BAD_USER_INPUT, 'Subscriptions are served over WebSocket (graphql-ws) on /graphql.', { field: 'operation' });
  const after = cursor(args.after);
  const { workspaceId } = args;
  const reads = live.reads();
  const organizationId = await reads.organizationOf(workspaceId);
  if (organizationId === undefined || !(await reads.roleIn(workspaceId))) throw workspaceNotFound(workspaceId);
  const access = new AccessCheck(context, live, workspaceId);
  return args.backupId == null ? followWorkspace(live, workspaceId, organizationId, after, access) : followBackup(live, workspaceId, organizationId, args.backupId, after, access);
}

/** The caller's role in the workspace, checked as of a log position: at the start, then after every event that may change it. */
class AccessCheck {
  constructor(
    private readonly context: BackupsContext,
    private readonly live: BackupsLive,
    private readonly workspaceId: string,
  ) {}

  concerns(event: ReadDomainEvent): boolean {
    if (!ACCESS_CHANGES.has(event.type)) return false;
    const data = event.data as { userId?: unknown; workspaceId?: unknown };
    return event.type === 'WorkspaceDeleted' ? data.workspaceId === this.workspaceId : data.userId === this.context.caller.userId;
  }

  async check(position: bigint | undefined, first: boolean): Promise<void> {
    if (position !== undefined && this.context.consistency && !(await this.context.consistency.waitFor(position))) {
      throw new CanopyError(ErrorCode.SUBSCRIPTION_DROPPED, 'Your access could not be checked in time; subscribe again with the cursor of the last item you received.', {
        workspaceId: this.workspaceId,
        reason: 'access_check_timeout',
      });
    }
    if (await this.live.reads().roleIn(this.workspaceId)) return;
    if (first) throw workspaceNotFound(this.workspaceId);
    throw new CanopyError(ErrorCode.FORBIDDEN, `Your access to the backups of workspace ${this.workspaceId} was revoked: you no longer hold a role in it.`, {
      workspaceId: this.workspaceId,
      revoked: true,
    });
  }
}

/**
 * One backup, on the process's event feed: the backup's state is folded
 * from its stream up to the cursor (its request when there is none), then
 * every later event is an item, until the one after which the backup is over.
 */
async function followBackup(
  live: BackupsLive,
  workspaceId: string,
  organizationId: string,
  backupId: string,
  after: bigint | undefined,
  access: AccessCheck,
): Promise<AsyncIterableIterator<Delivery>> {
  const stream = backupStream(backupId);
  const history: ReadDomainEvent[] = [];
  for await (const event of live.log.readStream(stream)) history.push(event);
  const requested = history[0];
  if (!requested || (requested.data as { workspaceId?: unknown }).workspaceId !== workspaceId) {
    throw new CanopyError(ErrorCode.NOT_FOUND, `Backup ${backupId} does not exist in workspace ${workspaceId}.`, { field: 'backupId', backupId });
  }
  const start = after ?? requested.position - 1n;
  let state: BackupState = initialBackupState;
  for (const event of history) if (event.position <= start) state = fold(state, event);
  if (isOver(state)) return deliveries(empty(), async () => {});
  let started = false;
  const feed = await live.events.follow({
    streams: [stream, workspaceStream(workspaceId), organizationStream(organizationId)],
    after: start,
    keep: (event) => event.stream === stream,
    recheck: (event) => access.concerns(event),
    authorize: async (position) => {
      const first = !started;
      started = true;
      await access.check(position, first);
    },
  });
  async function* items(): AsyncGenerator<BackupProgressItem> {
    for await (const event of feed) {
      if (!isBackupEvent(event)) continue;
      state = fold(state, event);
      yield progressItem(event, state);
      if (isOver(state)) return;
    }
  }
  return deliveries(items(), async () => {
    await feed.return?.();
  });
}

/**
 * Every backup of a workspace, on the log: a workspace's backups have no
 * common stream, and backups requested later have streams nobody knows
 * yet, so this follows every backup stream from the cursor (or the head)
 * and keeps the workspace's. A backup first met past its request is folded
 * from its stream up to there.
 */
async function followWorkspace(
  live: BackupsLive,
  workspaceId: string,
  organizationId: string,
  after: bigint | undefined,
  access: AccessCheck,
): Promise<AsyncIterableIterator<Delivery>> {
  const head = await live.log.store.headPosition();
  if (after !== undefined && after > (head ?? 0n)) {
    throw new CanopyError(ErrorCode.BAD_USER_INPUT, `after (${after}) is beyond the end of the log (${head ?? 0n}): pass the cursor of an item you received.`, { field: 'after' });
  }
  await access.check(head, true);
  const ownStreams = new Set([workspaceStream(workspaceId), organizationStream(organizationId)]);
  const subscription: LogSubscription = live.log.store.subscribeToAll({
    ...((after ?? head) === undefined ? {} : { after: after ?? head }),
    filter: { streamPrefixes: [BACKUP_PREFIX, ...ownStreams] },
  });
  /** By backup id: its state, or null when it is another workspace's. */
  const backups = new Map<string, BackupState | null>();
  const stateOf = async (backupId: string, event: ReadDomainEvent): Promise<BackupState | null> => {
    const known = backups.get(backupId);
    if (known !== undefined) return known;
    let state: BackupState = initialBackupState;
    if (event.revision > 0n) {
      for await (const earlier of live.log.readStream(backupStream(backupId), { maxCount: Number(event.revision) })) state = fold(state, earlier);
    }
    const ours = event.revision === 0n ? (event.data as { workspaceId?: unknown }).workspaceId === workspaceId : state.request?.workspaceId === workspaceId;
    return ours ? state : null;
  };
  async function* items(): AsyncGenerator<BackupProgressItem> {
    for await (const message of subscription) {
      if (message.kind !== 'event') continue;
      const event = live.log.upcast(message.event);
      if (ownStreams.has(event.stream)) {
        if (access.concerns(event)) await access.check(event.position, false);
        continue;
      }
      const target = streamOf(event.stream);
      if (target?.kind !== 'backup' || !isBackupEvent(event)) continue;
      const state = await stateOf(target.id, event);
      if (state === null) {
        backups.set(target.id, null);
        continue;
      }
      const next = fold(state, event);
      backups.set(target.id, next);
      yield progressItem(event, next);
    }
  }
  return deliveries(items(), () => subscription.close());
}

async function* empty(): AsyncGenerator<BackupProgressItem> {}

/**
 * The items, ended by an error result when the source throws a CanopyError
 * (access revoked). A plain iterator, not a generator: `return` must close
 * the source even before the first `next`.
 */
function deliveries(source: AsyncGenerator<BackupProgressItem>, close: () => Promise<unknown>): AsyncIterableIterator<Delivery> {
  let finished = false;
  const finish = async () => {
    if (finished) return;
    finished = true;
    await close();
    await source.return(undefined).catch(() => {});
  };
  const done = { done: true, value: undefined } as const;
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next(): Promise<IteratorResult<Delivery>> {
      if (finished) return done;
      try {
        const step = await source.next();
        if (!step.done) return { done: false, value: { item: step.value } };
      } catch (error) {
        await finish();
        if (!isCanopyError(error)) throw error;
        return { done: false, value: { end: error } };
      }
      await finish();
      return done;
    },
    async return(): Promise<IteratorResult<Delivery>> {
      await finish();
      return done;
    },
  };
}

function cursor(after: string | null | undefined): bigint | undefined {
  if (after == null) return undefined;
  if (!/^\d{1,19}$/.test(after)) {
    throw new CanopyError(ErrorCode.BAD_USER_INPUT, 'after must be the cursor of an item you received (a log position).', { field: 'after' });
  }
  return BigInt(after);
}
