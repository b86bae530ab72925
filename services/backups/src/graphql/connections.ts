import { ArgsType, Field, Int, ObjectType, type ClassType } from 'type-graphql';
import type { Page } from '../read-model/queries.js';
import { Backup, Restore } from './types.js';

export const DEFAULT_PAGE = 50;

/** Named apart from the workspaces subgraph's `PageInfo`: a type defined by two subgraphs must be shareable in both. */
@ObjectType({ description: 'Where a page of backups or restores ends, and whether another follows (Relay cursor connections).' })
export class BackupsPageInfo {
  @Field() hasNextPage!: boolean;
  @Field(() => String, { nullable: true, description: 'Pass it as `after` for the next page.' }) endCursor!: string | null;
}

@ArgsType()
export class BackupsPageArgs {
  @Field(() => Int, { defaultValue: DEFAULT_PAGE, description: 'How many, 0 to 500.' }) first!: number;
  @Field(() => String, { nullable: true, description: 'The endCursor of the previous page.' }) after?: string | null;
}

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  nodes: T[];
  pageInfo: BackupsPageInfo;
}

function connectionType<T>(name: string, Node: ClassType<T & object>): ClassType<Connection<T>> {
  @ObjectType(`${name}Edge`)
  class EdgeType {
    @Field({ description: 'Opaque; pass it as `after` to continue after this one.' }) cursor!: string;
    @Field(() => Node) node!: T;
  }
  @ObjectType(`${name}Connection`, { description: `A page of ${name} items, newest first.` })
  class ConnectionType {
    @Field(() => [EdgeType]) edges!: EdgeType[];
    @Field(() => [Node], { description: 'The nodes of `edges`, for callers that need no cursors.' }) nodes!: T[];
    @Field(() => BackupsPageInfo) pageInfo!: BackupsPageInfo;
  }
  return ConnectionType;
}

export const BackupConnection = connectionType<Backup>('Backup', Backup);
export const RestoreConnection = connectionType<Restore>('Restore', Restore);

/** A read-model page as a connection, each node with its own cursor. */
export function toConnection<S, T>(page: Page<S>, map: (summary: S) => T, cursorOf: (summary: S) => string): Connection<T> {
  const edges = page.nodes.map((summary) => ({ cursor: cursorOf(summary), node: map(summary) }));
  return { edges, nodes: edges.map((edge) => edge.node), pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor } };
}
