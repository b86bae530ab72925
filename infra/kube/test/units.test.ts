import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { humanDuration } from '../src/api/tables.js';
import { ManualClock } from '../src/clock.js';
import { CronParseError, nextRun, parseCron } from '../src/controllers/cron.js';
import { matchesSelector, parseLabelSelector, SelectorParseError, selectorToString } from '../src/labels.js';
import { JsonPatchError, jsonPatch } from '../src/patch/json-patch.js';
import { strategicMerge } from '../src/patch/strategic-merge.js';
import { formatBytes, formatCpu, parseQuantity } from '../src/quantity.js';
import { fieldSetOf, formatPath, fromFieldsV1, toFieldsV1 } from '../src/ssa/fieldset.js';
import { selfSignedCertificate } from '../src/tls.js';
import { kubeconfigYaml } from '../src/kubeconfig.js';
import type { JsonObject } from '../src/json.js';

describe('label selectors', () => {
  const labels = { app: 'web', env: 'prod', 'example.com/tier': 'front' };
  it.each([
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app!=web', false],
    ['app!=db', true],
    ['missing!=x', true],
    ['env in (prod,dev)', true],
    ['env in ( dev )', false],
    ['env notin (dev)', true],
    ['missing notin (dev)', true],
    ['example.com/tier', true],
    ['!example.com/tier', false],
    ['!missing', true],
    ['app=web, env in (prod), !missing', true],
  ])('%j matches %j', (selector, expected) => {
    expect(matchesSelector(parseLabelSelector(selector), labels)).toBe(expected);
  });

  it.each(['app=', 'app in prod', 'app in (a', '=web', 'app=web,', 'Bad Key=x', 'app=bad value'])('refuses %j', (selector) => {
    if (selector === 'app=') {
      expect(parseLabelSelector(selector)).toEqual([{ key: 'app', op: '=', values: [''] }]);
      return;
    }
    expect(() => parseLabelSelector(selector)).toThrow(SelectorParseError);
  });

  it('prints requirements back in the server’s syntax', () => {
    expect(selectorToString(parseLabelSelector('a=1,b!=2,c in (x,y),!d,e'))).toBe('a=1,b!=2,c in (x,y),!d,e');
  });
});

describe('strategic merge patch', () => {
  const pod: JsonObject = {
    spec: {
      containers: [
        { name: 'a', image: 'a:1', env: [{ name: 'X', value: '1' }] },
        { name: 'b', image: 'b:1' },
      ],
      tolerations: [{ key: 'k' }],
    },
    metadata: { finalizers: ['one'], labels: { keep: 'yes', drop: 'yes' } },
  };

  it('merges associative lists by key, replaces atomic lists, unions sets, deletes with null', () => {
    const out = strategicMerge(pod, {
      spec: { containers: [{ name: 'a', env: [{ name: 'Y', value: '2' }] }, { name: 'c', image: 'c:1' }], tolerations: [{ key: 'other' }] },
      metadata: { finalizers: ['two', 'one'], labels: { drop: null } },
    });
    expect(out).toEqual({
      spec: {
        containers: [
          { name: 'a', image: 'a:1', env: [{ name: 'X', value: '1' }, { name: 'Y', value: '2' }] },
          { name: 'b', image: 'b:1' },
          { name: 'c', image: 'c:1' },
        ],
        tolerations: [{ key: 'other' }],
      },
      metadata: { finalizers: ['one', 'two'], labels: { keep: 'yes' } },
    });
  });

  it('honours $patch, $setElementOrder, $deleteFromPrimitiveList and $retainKeys', () => {
    const out = strategicMerge(pod, {
      spec: { containers: [{ name: 'a', $patch: 'delete' }], $setElementOrder: undefined, '$setElementOrder/containers': [{ name: 'b' }] },
      metadata: { '$deleteFromPrimitiveList/finalizers': ['one'], labels: { $patch: 'replace', only: 'this' } },
    } as never);
    expect(out).toEqual({ spec: { containers: [{ name: 'b', image: 'b:1' }], tolerations: [{ key: 'k' }] }, metadata: { finalizers: [], labels: { only: 'this' } } });
    expect(strategicMerge({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } }, { strategy: { $retainKeys: ['type'], type: 'Recreate' } })).toEqual({ strategy: { type: 'Recreate' } });
  });
});

describe('JSON patch', () => {
  it('adds, removes, replaces, moves, copies and tests', () => {
    const doc = { a: [1, 2], b: { c: 'x' } };
    expect(
      jsonPatch(doc, [
        { op: 'add', path: '/a/-', value: 3 },
        { op: 'add', path: '/a/0', value: 0 },
        { op: 'remove', path: '/a/1' },
        { op: 'replace', path: '/b/c', value: 'y' },
        { op: 'copy', from: '/b/c', path: '/d' },
        { op: 'move', from: '/d', path: '/e~1f' },
        { op: 'test', path: '/e~1f', value: 'y' },
      ]),
    ).toEqual({ a: [0, 2, 3], b: { c: 'y' }, 'e/f': 'y' });
    expect(doc).toEqual({ a: [1, 2], b: { c: 'x' } });
  });

  it('fails on a failed test or a missing path', () => {
    expect(() => jsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 2 }])).toThrow(JsonPatchError);
    expect(() => jsonPatch({ a: 1 }, [{ op: 'remove', path: '/b' }])).toThrow(JsonPatchError);
    expect(() => jsonPatch({ a: 1 }, [{ op: 'replace', path: '/x/y', value: 1 }])).toThrow(JsonPatchError);
  });
});

describe('quantities', () => {
  it.each([
    ['500m', 0.5],
    ['2', 2],
    ['1.5', 1.5],
    ['128Mi', 128 * 2 ** 20],
    ['1Gi', 2 ** 30],
    ['1G', 1e9],
    ['1e3', 1000],
    ['100k', 100_000],
  ])('parses %s', (text, value) => expect(parseQuantity(text)).toBe(value));

  it('refuses what is not a quantity', () => {
    for (const text of ['', 'abc', '1 Gi', '1.2.3', 'Mi']) expect(parseQuantity(text)).toBeUndefined();
  });

  it('formats as the server prints quota usage', () => {
    expect([formatCpu(0.6), formatCpu(2), formatCpu(0)]).toEqual(['600m', '2', '0']);
    expect([formatBytes(512 * 2 ** 20), formatBytes(1e9), formatBytes(1000 * 2 ** 20 + 1), formatBytes(0)]).toEqual(['512Mi', '1G', String(1000 * 2 ** 20 + 1), '0']);
  });
});

describe('server-side apply field sets', () => {
  it('uses the FieldsV1 vocabulary: f: fields, k: keyed list items with ".", v: set members', () => {
    const set = fieldSetOf(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'x', namespace: 'y', uid: 'u', labels: { app: 'x' }, finalizers: ['f'] },
        spec: { replicas: 1, selector: { matchLabels: { app: 'x' } }, template: { spec: { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80 }] }] } } },
        status: { replicas: 1 },
      },
      'main',
    );
    expect(toFieldsV1(set)).toEqual({
      'f:metadata': { 'f:labels': { 'f:app': {} }, 'f:finalizers': { 'v:"f"': {} } },
      'f:spec': {
        'f:replicas': {},
        'f:selector': {},
        'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"c"}': { '.': {}, 'f:name': {}, 'f:image': {}, 'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } } } } } },
      },
    });
    expect(fromFieldsV1(toFieldsV1(set))).toEqual(set);
    expect(formatPath(['f:spec', 'f:template', 'f:spec', 'f:containers', 'k:{"name":"c"}', 'f:image'])).toBe('.spec.template.spec.containers[name="c"].image');
  });
});

describe('cron schedules', () => {
  const at = (iso: string) => Date.parse(iso);
  const next = (schedule: string, after: string) => new Date(nextRun(parseCron(schedule), at(after))!).toISOString();
  it.each([
    ['*/15 * * * *', '2026-01-01T10:07:30Z', '2026-01-01T10:15:00.000Z'],
    ['0 3 * * *', '2026-01-01T03:00:00Z', '2026-01-02T03:00:00.000Z'],
    ['30 9 * * MON-FRI', '2026-01-02T10:00:00Z', '2026-01-05T09:30:00.000Z'],
    ['0 0 1,15 * *', '2026-01-02T00:00:00Z', '2026-01-15T00:00:00.000Z'],
    ['0 0 13 * 5', '2026-01-01T00:00:00Z', '2026-01-02T00:00:00.000Z'],
    ['@monthly', '2026-01-31T23:59:00Z', '2026-02-01T00:00:00.000Z'],
    ['0 12 29 FEB *', '2026-03-01T00:00:00Z', '2028-02-29T12:00:00.000Z'],
  ])('%s after %s is %s', (schedule, after, expected) => expect(next(schedule, after)).toBe(expected));

  it('refuses malformed schedules', () => {
    for (const bad of ['* * * *', '61 * * * *', '*/0 * * * *', '5-1 * * * *', 'x * * * *']) expect(() => parseCron(bad)).toThrow(CronParseError);
  });
});

describe('the rest', () => {
  it('prints ages as kubectl does', () => {
    expect([5_000, 119_000, 125_000, 600_000, 7_200_000, 9 * 3_600_000, 50 * 3_600_000, 400 * 86_400_000].map(humanDuration)).toEqual(['5s', '119s', '2m5s', '10m', '120m', '9h', '2d2h', '400d']);
  });

  it('fires a manual clock’s timers in time order, including timers set while firing', () => {
    const clock = new ManualClock(0);
    const fired: string[] = [];
    clock.setTimer(() => fired.push('b@20'), 20);
    clock.setTimer(() => {
      fired.push('a@10');
      clock.setTimer(() => fired.push('c@15'), 5);
    }, 10);
    const cancelled = clock.setTimer(() => fired.push('never'), 12);
    cancelled.cancel();
    clock.advance(30);
    expect(fired).toEqual(['a@10', 'c@15', 'b@20']);
    expect(clock.now()).toBe(30);
  });

  it('generates a self-signed certificate clients can verify for the listed addresses', () => {
    const { certPem } = selfSignedCertificate(['127.0.0.1', 'localhost', '::1']);
    const cert = new X509Certificate(certPem);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkIP('::1')).toBe('::1');
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.checkIP('10.0.0.1')).toBeUndefined();
    expect(cert.ca).toBe(true);
  });

  it('writes kubeconfig YAML with a context per cluster', () => {
    expect(kubeconfigYaml([{ name: 'a', server: 'https://127.0.0.1:1', token: 't0k', caPem: 'PEM' }, { name: 'b', server: 'http://127.0.0.1:2' }], 'b')).toBe(
      [
        'apiVersion: v1',
        'kind: Config',
        'preferences: {}',
        'current-context: b',
        'clusters:',
        '- name: a',
        '  cluster:',
        '    server: https://127.0.0.1:1',
        '    certificate-authority-data: UEVN',
        '- name: b',
        '  cluster:',
        '    server: http://127.0.0.1:2',
        '    insecure-skip-tls-verify: true',
        'contexts:',
        '- name: a',
        '  context:',
        '    cluster: a',
        '    user: a',
        '    namespace: default',
        '- name: b',
        '  context:',
        '    cluster: b',
        '    user: b',
        '    namespace: default',
        'users:',
        '- name: a',
        '  user:',
        '    token: t0k',
        '- name: b',
        '  user: {}',
        '',
      ].join('\n'),
    );
  });
});
