import { afterAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { isCanopyError, type WorkspaceRole } from '@canopy/schema';
import type { WorkspaceCommand } from '@canopy/workspaces';
import { workspaceProjectors } from '../src/index.js';
import { as, closeKeyStore, expectReadModelsMatchDirectory, startHarness } from './harness.js';
import { sharedPgliteBackend } from './pglite-backend.js';

const USERS = ['ada', 'bob', 'carol', 'dan'] as const;
const ROLES: WorkspaceRole[] = ['viewer', 'member', 'admin', 'owner'];
const NAMESPACES = ['a', 'b'];
const user = fc.constantFrom(...USERS);
/** Mostly the first organization's owner, so that most commands are allowed. */
const actor = fc.constantFrom('ada', 'ada', 'ada', 'ada', ...USERS);
const pick = fc.nat(7);

/** A workspace command, with indices resolved against the run's state when it runs. */
type Step =
  | { kind: 'createOrganization'; actor: string; team: boolean }
  | { kind: 'addOwner' | 'removeOwner'; actor: string; organization: number; userId: string }
  | { kind: 'createWorkspace'; actor: string; organization: number; name: string; environment: boolean }
  | { kind: 'rename'; actor: string; workspace: number; name: string }
  | { kind: 'delete'; actor: string; workspace: number }
  | { kind: 'detach'; actor: string; workspace: number; cluster: number }
  | { kind: 'quota'; actor: string; workspace: number; namespace: string; cluster: number | null; cpu: string; memory: string; remove: boolean }
  | { kind: 'secret'; actor: string; workspace: number; name: string; keys: string[] }
  | { kind: 'workspace'; actor: string; workspace: number; command: WorkspaceCommand };

const workspaceCommand: fc.Arbitrary<WorkspaceCommand> = fc.oneof(
  fc.record({ type: fc.constant('AddMember' as const), userId: user, role: fc.constantFrom(...ROLES) }),
  fc.record({ type: fc.constant('ChangeMemberRole' as const), userId: user, role: fc.constantFrom(...ROLES) }),
  fc.record({ type: fc.constant('RemoveMember' as const), userId: user }),
  fc.record({ type: fc.constant('DescribeWorkspace' as const), description: fc.constantFrom('', 'one', 'two') }),
  fc.constantFrom('east', 'west').map((name): WorkspaceCommand => ({ type: 'AttachCluster', clusterId: `cluster-${name}-${Math.random()}`, name, connection: { kind: 'simulator', simulator: name } })),
  fc.constantFrom('north', 'south').map((name): WorkspaceCommand => ({
    type: 'AttachCluster',
    clusterId: `cluster-${name}-${Math.random()}`,
    name,
    connection: { kind: 'kubeconfig', path: `/etc/kube/${name}`, context: name === 'north' ? null : 'admin@south' },
  })),
  fc.record({ type: fc.constantFrom('AddNamespace' as const, 'RemoveNamespace' as const), namespace: fc.constantFrom(...NAMESPACES) }),
  fc.record({ type: fc.constant('SetWorkspaceBudget' as const), cpu: fc.constantFrom('unlimited', '4', '8'), memory: fc.constantFrom('unlimited', '8Gi') }),
  fc.record({ type: fc.constantFrom('RestrictImage' as const, 'LiftImageRestriction' as const), namespace: fc.constantFrom(...NAMESPACES), image: fc.constantFrom('nginx:*', 'redis') }),
  fc.constant<WorkspaceCommand>({ type: 'AddRoleBinding', name: 'devs', namespaces: ['a'], role: { kind: 'ClusterRole', name: 'edit' }, subjects: [{ kind: 'User', name: 'bob', namespace: null }] }),
  fc.constant<WorkspaceCommand>({
    type: 'AddRoleBinding',
    name: 'ops',
    namespaces: ['b', '/^a/'],
    role: { kind: 'Role', name: 'deployer' },
    subjects: [{ kind: 'ServiceAccount', name: 'ci', namespace: 'b' }, { kind: 'Group', name: 'ops', namespace: null }],
  }),
  fc.constantFrom('devs', 'ops').map((name): WorkspaceCommand => ({ type: 'RemoveRoleBinding', name })),
  fc.constantFrom('admins').map((name): WorkspaceCommand => ({ type: 'AddClusterRoleBinding', name, clusterRole: 'view', subjects: [{ kind: 'Group', name: 'ops', namespace: null }] })),
  fc.constant<WorkspaceCommand>({ type: 'RemoveClusterRoleBinding', name: 'admins' }),
  fc.constantFrom('db', 'token').map((name): WorkspaceCommand => ({ type: 'DeleteSecret', name })),
);

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('createOrganization' as const), actor, team: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('addOwner' as const, 'removeOwner' as const), actor, organization: pick, userId: user }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('createWorkspace' as const), actor, organization: pick, name: fc.constantFrom('web', 'api', 'db'), environment: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('rename' as const), actor, workspace: pick, name: fc.constantFrom('web', 'api', 'shop') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), actor, workspace: pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('detach' as const), actor, workspace: pick, cluster: pick }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('quota' as const),
      actor,
      workspace: pick,
      namespace: fc.constantFrom(...NAMESPACES),
      cluster: fc.option(pick, { nil: null }),
      cpu: fc.constantFrom('1', '500m', 'unlimited'),
      memory: fc.constantFrom('1Gi', 'unlimited'),
      remove: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('secret' as const), actor, workspace: pick, name: fc.constantFrom('db', 'token'), keys: fc.subarray(['value', 'password', 'user'], { minLength: 1 }) }),
  },
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('workspace' as const), actor, workspace: pick, command: workspaceCommand }) },
);

describe('property: live read models equal a rebuild from zero, and agree with the domain', () => {
  const backend = sharedPgliteBackend();
  afterAll(async () => {
    await closeKeyStore();
    await backend.teardown();
  });

  it('holds for any sequence of valid commands', async () => {
    let refused = 0;
    let applied = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 10, maxLength: 40 }), fc.constantFrom(1, 500), async (steps, batchSize) => {
        const h = await startHarness(backend, { batchSize });
        try {
          const { commands, directory } = h.service;
          const organizations: string[] = [(await commands.createOrganization(as('ada'), { name: 'Acme', kind: 'team' })).organizationId];
          const workspaces = (): string[] => organizations.flatMap((id) => [...(directory.organization(id)?.state.workspaces.keys() ?? [])]);
          const known = new Set(workspaces());
          const at = (index: number): string => {
            const list = [...known];
            return list[index % list.length]!;
          };
          for (const s of steps) {
            try {
              switch (s.kind) {
                case 'createOrganization':
                  organizations.push((await commands.createOrganization(as(s.actor), { name: s.actor, kind: s.team ? 'team' : 'personal' })).organizationId);
                  break;
                case 'addOwner':
                  await commands.addOrganizationOwner(as(s.actor), organizations[s.organization % organizations.length]!, s.userId);
                  break;
                case 'removeOwner':
                  await commands.removeOrganizationOwner(as(s.actor), organizations[s.organization % organizations.length]!, s.userId);
                  break;
                case 'createWorkspace':
                  await commands.createWorkspace(as(s.actor), {
                    organizationId: organizations[s.organization % organizations.length]!,
                    name: s.name,
                    kind: s.environment ? 'environment' : 'project',
                    stage: s.environment ? 'dev' : null,
                  });
                  break;
                case 'rename':
                  await commands.renameWorkspace(as(s.actor), at(s.workspace), h.version(at(s.workspace)), s.name);
                  break;
                case 'delete':
                  await commands.deleteWorkspace(as(s.actor), at(s.workspace), h.version(at(s.workspace)));
                  break;
                case 'detach': {
                  const clusters = [...(directory.workspace(at(s.workspace))?.state.clusters.keys() ?? ['none'])];
                  await h.ws(s.actor, at(s.workspace), { type: 'DetachCluster', clusterId: clusters[s.cluster % clusters.length]! });
                  break;
                }
                case 'quota': {
                  const clusters = [...(directory.workspace(at(s.workspace))?.state.clusters.keys() ?? [])];
                  const clusterId = s.cluster === null || clusters.length === 0 ? null : clusters[s.cluster % clusters.length]!;
                  await h.ws(
                    s.actor,
                    at(s.workspace),
                    s.remove ? { type: 'RemoveNamespaceQuota', namespace: s.namespace, clusterId } : { type: 'SetNamespaceQuota', namespace: s.namespace, clusterId, cpu: s.cpu, memory: s.memory },
                  );
                  break;
                }
                case 'secret':
                  await commands.writeSecret(as(s.actor), at(s.workspace), h.version(at(s.workspace)), s.name, s.keys.map((key) => ({ key, value: 'v' })));
                  break;
                case 'workspace':
                  await h.ws(s.actor, at(s.workspace), s.command);
                  break;
              }
              applied++;
            } catch (error) {
              if (!isCanopyError(error)) throw error;
              refused++;
            }
            for (const id of workspaces()) known.add(id);
          }

          await h.sync();
          const names = workspaceProjectors.map((projector) => projector.name);
          const live = await Promise.all(names.map((name) => h.runner.checksum(name)));
          await h.runner.rebuild();
          const rebuilt = await Promise.all(names.map((name) => h.runner.checksum(name)));
          expect(rebuilt.map((c) => [c.name, c.checksum, c.position])).toEqual(live.map((c) => [c.name, c.checksum, c.position]));
          await expectReadModelsMatchDirectory(h, USERS);
        } finally {
          await h.close();
        }
      }),
      { numRuns: 12 },
    );
    // The generator must mostly produce valid commands, or the property says little.
    // (Many refusals are the domain's rules at work: no role, name taken, nothing to remove.)
    expect(applied).toBeGreaterThan(40);
  }, 120_000);
});
