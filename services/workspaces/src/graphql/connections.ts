import { CanopyError, ErrorCode } from '@canopy/schema';
import { ArgsType, Field, Int, ObjectType, type ClassType } from 'type-graphql';

export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 500;

@ObjectType({ description: 'Where a page ends, and whether another follows (Relay cursor connections).' })
export class PageInfo {
  @Field() hasNextPage!: boolean;
  @Field(() => String, { nullable: true, description: 'Pass it as `after` for the next page.' }) endCursor!: string | null;
}

@ArgsType()
export class PageArgs {
  @Field(() => Int, { defaultValue: DEFAULT_PAGE, description: `How many, 1 to ${MAX_PAGE}.` }) first!: number;
  @Field(() => String, { nullable: true, description: 'The endCursor of the previous page.' }) after?: string | null;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface Connection<T> {
  edges: Edge<T>[];
  nodes: T[];
  pageInfo: PageInfo;
  totalCount: number;
}

/**
 * A Relay connection type for `Node`: `edges { cursor node }`, `nodes`,
 * `pageInfo` and `totalCount`, named `<name>Connection` and `<name>Edge`.
 */
export function connectionType<T>(name: string, Node: ClassType<T & object> | StringConstructor): ClassType<Connection<T>> {
  @ObjectType(`${name}Edge`)
  class EdgeType {
    @Field({ description: 'Opaque; pass it as `after` to continue after this one.' }) cursor!: string;
    @Field(() => Node) node!: T;
  }
  @ObjectType(`${name}Connection`, { description: `A page of ${name} items, in a stable order.` })
  class ConnectionType {
    @Field(() => [EdgeType]) edges!: EdgeType[];
    @Field(() => [Node], { description: 'The nodes of `edges`, for callers that need no cursors.' }) nodes!: T[];
    @Field(() => PageInfo) pageInfo!: PageInfo;
    @Field(() => Int, { description: 'How many there are in all, across pages.' }) totalCount!: number;
  }
  return ConnectionType;
}

/** Checks `first`; BAD_USER_INPUT outside 1..MAX_PAGE. */
export function pageSize(first: number): number {
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) {
    throw new CanopyError(ErrorCode.BAD_USER_INPUT, `first must be between 1 and ${MAX_PAGE}.`, { field: 'first' });
  }
  return first;
}

/** What every cursor starts with, inside: a format version, and never an empty cursor. */
const CURSOR_PREFIX = 'k1:';

export function encodeCursor(key: string): string {
  return Buffer.from(CURSOR_PREFIX + key, 'utf8').toString('base64url');
}

/** The key inside a cursor; BAD_USER_INPUT when it is not one this API made. */
export function decodeCursor(cursor: string): string {
  if (!/^[A-Za-z0-9_-]{1,1024}$/.test(cursor)) throw badCursor();
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith(CURSOR_PREFIX)) throw badCursor();
  const key = text.slice(CURSOR_PREFIX.length);
  if (encodeCursor(key) !== cursor) throw badCursor();
  return key;
}

function badCursor(): CanopyError {
  return new CanopyError(ErrorCode.BAD_USER_INPUT, 'after must be an endCursor from a previous page.', { field: 'after' });
}

/**
 * A page of `items` in the order of their keys (unique strings, compared by
 * code unit), after the key in the cursor `after`. Keyset, not offset: an
 * item added or removed between pages shifts nothing, and a cursor whose
 * item is gone continues after where it stood.
 */
export function paginate<T>(items: readonly T[], args: { first: number; after?: string | null }, keyOf: (item: T) => string): Connection<T> {
  const first = pageSize(args.first);
  const keyed = items.map((node) => ({ key: keyOf(node), node })).sort((a, b) => compareKeys(a.key, b.key));
  const after = args.after == null ? undefined : decodeCursor(args.after);
  const start = after === undefined ? 0 : firstAbove(keyed, after);
  const page = keyed.slice(start, start + first);
  const edges = page.map(({ key, node }) => ({ cursor: encodeCursor(key), node }));
  return {
    edges,
    nodes: page.map(({ node }) => node),
    pageInfo: { hasNextPage: start + first < keyed.length, endCursor: edges.at(-1)?.cursor ?? null },
    totalCount: keyed.length,
  };
}

function firstAbove(keyed: readonly { key: string }[], key: string): number {
  const index = keyed.findIndex((item) => compareKeys(item.key, key) > 0);
  return index >= 0 ? index : keyed.length;
}

/** Code-unit order, the order of keys made of ids and names (locale-independent). */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
