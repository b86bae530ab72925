import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { breakingChanges, checkSchema, composeSupergraph, CompositionError, staleFiles } from '../src/graphql/index.js';

const API = 'schema/graphql/api.graphql';

const V1 = `type Query {
  workspace(id: ID!): Workspace
}

type Workspace {
  id: ID!
  name: String!
  stage: String
}
`;

/** A throw-away git repository whose commits change api.graphql. */
class Repo {
  private constructor(readonly dir: string) {}

  static async create(): Promise<Repo> {
    const dir = await mkdtemp(join(tmpdir(), 'canopy-schema-check-'));
    const repo = new Repo(dir);
    repo.git('init', '--quiet', '--initial-branch=main');
    await mkdir(join(dir, 'schema', 'graphql'), { recursive: true });
    return repo;
  }

  git(...args: string[]): string {
    return execFileSync('git', ['-C', this.dir, '-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false', ...args], { encoding: 'utf8' });
  }

  async write(sdl: string): Promise<void> {
    await writeFile(join(this.dir, API), sdl);
  }

  /** Writes api.graphql and commits it with `message` (a subject, and trailers after a blank line). */
  async commit(sdl: string, message: string): Promise<string> {
    await this.write(sdl);
    this.git('add', '-A');
    this.git('commit', '--quiet', '-m', message);
    return this.git('rev-parse', 'HEAD').trim();
  }

  /** The check as CI runs it, with api.graphql as the only generated file (what the working tree holds, unless `expected` says otherwise). */
  check(expected: Record<string, string>) {
    return checkSchema({ repo: this.dir, dir: join(this.dir, 'schema', 'graphql'), expected, apiFile: API, regenerate: 'npm run schema' });
  }

  remove() {
    return rm(this.dir, { recursive: true, force: true });
  }
}

describe('breaking changes of the client-facing schema', () => {
  const repos: Repo[] = [];
  const repo = async () => {
    const created = await Repo.create();
    repos.push(created);
    return created;
  };
  afterEach(async () => {
    await Promise.all(repos.splice(0).map((r) => r.remove()));
  });

  it('fails on a commit that removes a field without the trailer, naming the field and the commit', async () => {
    const r = await repo();
    await r.commit(V1, 'First schema');
    const without = V1.replace('  stage: String\n', '');
    const commit = await r.commit(without, 'Drop the stage');
    const report = await r.check({ 'api.graphql': without });
    expect(report.ok).toBe(false);
    const text = report.lines.join('\n');
    expect(text).toContain(`BREAKING in commit ${commit.slice(0, 12)} "Drop the stage"`);
    expect(text).toContain('Workspace.stage');
    expect(text).toContain('Schema-Breaking-Change: intended');
  });

  it('passes when the commit that breaks carries "Schema-Breaking-Change: intended"', async () => {
    const r = await repo();
    await r.commit(V1, 'First schema');
    const without = V1.replace('  stage: String\n', '');
    await r.commit(without, 'Drop the stage\n\nStages moved to environments.\n\nSchema-Breaking-Change: intended');
    const report = await r.check({ 'api.graphql': without });
    expect(report.lines.join('\n')).toMatch(/intended breaking change in \w+ "Drop the stage": Workspace\.stage/);
    expect(report.ok).toBe(true);
  });

  it('passes an added optional field, and an added optional argument', async () => {
    const r = await repo();
    await r.commit(V1, 'First schema');
    const more = V1.replace('  stage: String\n', '  stage: String\n  description: String\n').replace('workspace(id: ID!)', 'workspace(id: ID!, at: String)');
    await r.commit(more, 'Describe workspaces');
    const report = await r.check({ 'api.graphql': more });
    expect(report.lines).toContain(`no unintended breaking change in the history of ${API}`);
    expect(report.ok).toBe(true);
  });

  it('fails on a changed field type and on a new required argument', async () => {
    const r = await repo();
    await r.commit(V1, 'First schema');
    const changed = V1.replace('  name: String!\n', '  name: Int!\n').replace('workspace(id: ID!)', 'workspace(id: ID!, organizationId: ID!)');
    await r.commit(changed, 'Numbered names');
    const report = await r.check({ 'api.graphql': changed });
    expect(report.ok).toBe(false);
    const text = report.lines.join('\n');
    expect(text).toContain('Workspace.name');
    expect(text).toContain('Query.workspace.organizationId');
  });

  it('keeps failing on an unmarked break further back in the history', async () => {
    const r = await repo();
    await r.commit(V1, 'First schema');
    const without = V1.replace('  stage: String\n', '');
    const breaking = await r.commit(without, 'Drop the stage');
    const later = without.replace('  name: String!\n', '  name: String!\n  kind: String\n');
    await r.commit(later, 'Add kinds');
    const report = await r.check({ 'api.graphql': later });
    expect(report.ok).toBe(false);
    expect(report.lines.join('\n')).toContain(breaking.slice(0, 12));
  });

  it('fails on an uncommitted breaking change in the working tree, with the hint to add the trailer', async () => {
    const r = await repo();
    await r.commit(V1, 'First schema');
    const without = V1.replace('  stage: String\n', '');
    await r.write(without);
    const report = await r.check({ 'api.graphql': without });
    expect(report.ok).toBe(false);
    const text = report.lines.join('\n');
    expect(text).toContain(`BREAKING in the working tree (${API} against HEAD)`);
    expect(text).toContain('Workspace.stage');
    expect(text).toContain('"Schema-Breaking-Change: intended" when you commit it');
  });

  it('fails when a committed file is not what the code generates (stale), naming it', async () => {
    const r = await repo();
    await r.commit(V1, 'First schema');
    const generated = V1.replace('  stage: String\n', '  stage: String\n  description: String\n');
    const report = await r.check({ 'api.graphql': generated, 'supergraph.graphql': 'schema { query: Query }\n' });
    expect(report.ok).toBe(false);
    const stale = report.lines.filter((line) => line.startsWith('STALE'));
    expect(stale).toHaveLength(2);
    expect(stale[0]).toContain(join('schema', 'graphql', 'api.graphql'));
    expect(stale[0]).toContain('npm run schema');
    expect(stale[1]).toContain('supergraph.graphql');
  });

  it('has nothing to compare for the commit that adds the file', async () => {
    const r = await repo();
    await writeFile(join(r.dir, 'README'), 'x');
    r.git('add', '-A');
    r.git('commit', '--quiet', '-m', 'Start');
    await r.commit(V1, 'First schema');
    const report = await r.check({ 'api.graphql': V1 });
    expect(report.ok).toBe(true);
  });
});

describe('staleFiles', () => {
  it('names missing, different and no longer generated files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'canopy-stale-'));
    try {
      await writeFile(join(dir, 'same.graphql'), 'a');
      await writeFile(join(dir, 'changed.graphql'), 'b');
      await writeFile(join(dir, 'old.graphql'), 'c');
      await writeFile(join(dir, 'notes.md'), 'not a schema');
      expect(await staleFiles({ 'same.graphql': 'a', 'changed.graphql': 'B', 'missing.graphql': 'd' }, dir)).toEqual(['changed.graphql', 'missing.graphql', 'old.graphql']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('breakingChanges', () => {
  it('reports nothing for a schema compared with itself', async () => {
    expect(await breakingChanges(V1, V1)).toEqual([]);
  });
});

describe('composeSupergraph', () => {
  const subgraph = (sdl: string) => `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])\n${sdl}`;

  it('composes subgraphs into a supergraph and the API schema clients see, without federation internals', () => {
    const composed = composeSupergraph([
      { name: 'a', url: 'http://a/graphql', sdl: subgraph('type Query { workspace(id: ID!): Workspace }\ntype Workspace @key(fields: "id") { id: ID! name: String! }') },
      { name: 'b', url: 'http://b/graphql', sdl: subgraph('type Workspace @key(fields: "id") { id: ID! cost: Float }') },
    ]);
    expect(composed.supergraphSdl).toContain('join__graph(name: "a", url: "http://a/graphql")');
    expect(composed.apiSdl).toContain('cost: Float');
    expect(composed.apiSdl).toContain('name: String!');
    expect(composed.apiSdl).not.toMatch(/_entities|_service|join__|link__|@key/);
  });

  it('throws a CompositionError naming the conflict', () => {
    expect(() =>
      composeSupergraph([
        { name: 'a', url: 'http://a', sdl: subgraph('type Query { name: String }') },
        { name: 'b', url: 'http://b', sdl: subgraph('type Query { name: Int }') },
      ]),
    ).toThrow(CompositionError);
  });
});
