import { CanopyError, ErrorCode } from '@canopy/schema';

/**
 * Role bindings target namespaces by selectors: a namespace of the workspace
 * by name, `/regex/` to include the namespaces the pattern matches, or
 * `~/regex/` to exclude them. A pattern grants access; it does not make the
 * matching namespaces part of the workspace.
 */
export type NamespaceSelector = { kind: 'name'; name: string } | { kind: 'include' | 'exclude'; pattern: RegExp };

export function parseSelector(text: string): NamespaceSelector | undefined {
  const pattern = /^(~?)\/(.+)\/$/.exec(text);
  if (!pattern) return /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(text) && text.length <= 63 ? { kind: 'name', name: text } : undefined;
  try {
    return { kind: pattern[1] ? 'exclude' : 'include', pattern: new RegExp(pattern[2]!) };
  } catch {
    return undefined;
  }
}

/** Parses every selector, or throws BAD_USER_INPUT naming the one at fault. */
export function parseSelectors(texts: readonly string[], field: string): NamespaceSelector[] {
  const selectors = texts.map((text, index) => {
    const selector = parseSelector(text);
    if (!selector) {
      throw new CanopyError(ErrorCode.BAD_USER_INPUT, `${field}[${index}] must be a namespace name, /regex/ or ~/regex/ (a valid regular expression).`, { field: `${field}.${index}` });
    }
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
