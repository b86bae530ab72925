import { describe, expect, it } from '@jest/globals';
import { CanopyError, ErrorCode } from '@canopy/schema';
import { parseSelector, parseSelectors, selectNamespaces } from '../src/index.js';

const clusterNamespaces = ['default', 'kube-system', 'web', 'web-2', 'api', 'team-a', 'team-b', 'team-sandbox', 'my-team-x', 'sandbox'];
const select = (...texts: string[]) => selectNamespaces(parseSelectors(texts, 'namespaces'), clusterNamespaces);

describe('parseSelector', () => {
  it('reads a name, /include/ and ~/exclude/', () => {
    expect(parseSelector('web')).toEqual({ kind: 'name', name: 'web' });
    expect(parseSelector('/^team-/')).toEqual({ kind: 'include', pattern: /^team-/ });
    expect(parseSelector('~/sandbox/')).toEqual({ kind: 'exclude', pattern: /sandbox/ });
    expect(parseSelector('/a/b/')).toEqual({ kind: 'include', pattern: /a\/b/ });
    expect(parseSelector('n'.repeat(63))).toEqual({ kind: 'name', name: 'n'.repeat(63) });
  });

  it.each(['/(/', '~/[/', '//', '~//', '', 'Web', 'web_2', '-web', 'web-', 'n'.repeat(64), '~web', '/web', 'web/', '~ /web/'])('refuses %j', (text) => {
    expect(parseSelector(text)).toBeUndefined();
  });
});

describe('patterns that could stall the reconciler', () => {
  it.each(['/(a+)+$/', '~/^(x*)*y$/', '/([a-z]+-?)*$/', `/${'a'.repeat(129)}/`])('refuses %j with a reason', (text) => {
    expect(parseSelector(text)).toBeUndefined();
    expect(() => parseSelectors([text], 'namespaces')).toThrow(/exponential time|at most 128/);
  });

  it('accepts the patterns people write for namespaces', () => {
    for (const text of ['/^team-[a-z0-9]+$/', '~/-(dev|test)$/', '/^(web|api)-[0-9]+$/', `/${'a'.repeat(128)}/`]) expect(parseSelector(text)).toBeDefined();
  });
});

describe('parseSelectors', () => {
  it('parses every selector in order', () => {
    expect(parseSelectors(['web', '/^team-/', '~/sandbox/'], 'namespaces').map((s) => s.kind)).toEqual(['name', 'include', 'exclude']);
  });

  it('names the selector at fault', () => {
    const attempt = () => parseSelectors(['web', '/^team-/', '/(/'], 'namespaces');
    expect(attempt).toThrow(CanopyError);
    try {
      attempt();
    } catch (error) {
      expect((error as CanopyError).code).toBe(ErrorCode.BAD_USER_INPUT);
      expect((error as CanopyError).details).toEqual({ field: 'namespaces.2' });
    }
  });

  it.each([[['~/sandbox/']], [['~/a/', '~/b/']], [[]]])('needs something to include: %j', (texts) => {
    try {
      parseSelectors(texts, 'namespaces');
      throw new Error('expected parseSelectors to throw');
    } catch (error) {
      expect(error).toBeInstanceOf(CanopyError);
      expect((error as CanopyError).code).toBe(ErrorCode.BAD_USER_INPUT);
      expect((error as CanopyError).details).toEqual({ field: 'namespaces' });
    }
  });
});

describe('selectNamespaces', () => {
  it('a name selects exactly that namespace, if the cluster has it', () => {
    expect(select('web')).toEqual(['web']);
    expect(select('web', 'api')).toEqual(['web', 'api']);
    expect(select('jobs')).toEqual([]);
  });

  it('an include pattern selects what it matches, unanchored unless anchored', () => {
    expect(select('/^team-/')).toEqual(['team-a', 'team-b', 'team-sandbox']);
    expect(select('/team/')).toEqual(['team-a', 'team-b', 'team-sandbox', 'my-team-x']);
    expect(select('/^web$/')).toEqual(['web']);
    expect(select('/.*/')).toEqual(clusterNamespaces);
  });

  it('an exclude pattern removes what it matches, from names and includes alike', () => {
    expect(select('/^team-/', '~/sandbox/')).toEqual(['team-a', 'team-b']);
    expect(select('sandbox', '/^team-/', '~/sandbox/')).toEqual(['team-a', 'team-b']);
    expect(select('/.*/', '~/^kube-/', '~/^default$/')).toEqual(['web', 'web-2', 'api', 'team-a', 'team-b', 'team-sandbox', 'my-team-x', 'sandbox']);
  });

  it('the order of selectors does not matter; the result follows the cluster', () => {
    expect(select('~/sandbox/', '/^team-/', 'web')).toEqual(select('web', '/^team-/', '~/sandbox/'));
    expect(select('api', 'web')).toEqual(['web', 'api']);
  });

  it('a namespace selected twice is listed once', () => {
    expect(select('team-a', '/^team-a$/', '/team/')).toEqual(['team-a', 'team-b', 'team-sandbox', 'my-team-x']);
  });

  it('selects from whatever namespaces it is given', () => {
    const selectors = parseSelectors(['/^team-/', 'web'], 'namespaces');
    expect(selectNamespaces(selectors, new Set(['team-z', 'web', 'other']))).toEqual(['team-z', 'web']);
    expect(selectNamespaces(selectors, [])).toEqual([]);
  });

  it('patterns are case-sensitive and carry no flags', () => {
    expect(select('/TEAM/')).toEqual([]);
    // Testing the same pattern over and over gives the same answer (no lastIndex state).
    const selectors = parseSelectors(['/team/'], 'namespaces');
    expect(selectNamespaces(selectors, ['team-a', 'team-a', 'team-a'])).toEqual(['team-a', 'team-a', 'team-a']);
  });
});
