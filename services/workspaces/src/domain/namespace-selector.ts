import { CanopyError, ErrorCode } from '@canopy/schema';
import safeRegex from 'safe-regex2';

/** Longest pattern accepted between the slashes: namespace names have at most 63 characters. */
export const MAX_PATTERN_LENGTH = 128;

/**
 * Role bindings target namespaces by selectors: a namespace of the workspace
 * by name, `/regex/` to include the namespaces the pattern matches, or
 * `~/regex/` to exclude them. A pattern grants access; it does not make the
 * matching namespaces part of the workspace.
 */
export type NamespaceSelector = { kind: 'name'; name: string } | { kind: 'include' | 'exclude'; pattern: RegExp };

export function parseSelector(text: string): NamespaceSelector | undefined {
  const parsed = readSelector(text);
  return typeof parsed === 'string' ? undefined : parsed;
}

/**
 * A selector, or why the text is none. Patterns run in JavaScript's
 * backtracking engine (in the reconciler, against every namespace of every
 * cluster), so nested quantifiers such as `(a+)+`, which can take
 * exponential time, are refused along with overlong patterns.
 */
function readSelector(text: string): NamespaceSelector | string {
  const pattern = /^(~?)\/(.+)\/$/.exec(text);
  if (!pattern) {
    return /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(text) && text.length <= 63 ? { kind: 'name', name: text } : 'must be a namespace name, /regex/ or ~/regex/';
  }
  const source = pattern[2]!;
  if (source.length > MAX_PATTERN_LENGTH) return `is a pattern of ${source.length} characters; at most ${MAX_PATTERN_LENGTH} are accepted`;
  let regex: RegExp;
  try {
    regex = new RegExp(source);
  } catch {
    return 'is not a valid regular expression';
  }
  if (!safeRegex(regex)) return 'nests quantifiers (as in (a+)+), which can take exponential time; write the pattern without a repeated group that itself repeats';
  return { kind: pattern[1] ? 'exclude' : 'include', pattern: regex };
}

/** Parses every selector, or throws BAD_USER_INPUT naming the one at fault. */
export function parseSelectors(texts: readonly string[], field: string): NamespaceSelector[] {
  const selectors = texts.map((text, index) => {
    const selector = readSelector(text);
    if (typeof selector === 'string') throw new CanopyError(ErrorCode.BAD_USER_INPUT, `${field}[${index}] ${selector}.`, { field: `${field}.${index}` });
    return selector;
  });
  if (!selectors.some((selector) => selector.kind !== 'exclude')) {
    throw new CanopyError(ErrorCode.BAD_USER_INPUT, `${field} needs at least one namespace or /regex/ to include.`, { field });
  }
  return selectors;
}

/** The namespaces of a cluster a binding applies to: named or matched by an include pattern, and not matched by any exclude pattern. */
export function selectNamespaces(selectors: readonly NamespaceSelector[], namespaces: Iterable<string>): string[] {
  const selected: string[] = [];
  for (const namespace of namespaces) {
    const included = selectors.some((s) => (s.kind === 'name' ? s.name === namespace : s.kind === 'include' && s.pattern.test(namespace)));
    const excluded = selectors.some((s) => s.kind === 'exclude' && s.pattern.test(namespace));
    if (included && !excluded) selected.push(namespace);
  }
  return selected;
}
