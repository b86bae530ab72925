import { isObject, stringMap } from './json.js';
import { labelValueProblem, qualifiedNameProblem } from './names.js';

export type LabelOperator = 'exists' | '!exists' | '=' | '!=' | 'in' | 'notin';
export type Requirement = { key: string; op: LabelOperator; values: string[] };
export type Selector = Requirement[];

export class SelectorParseError extends Error {}

const KEY_CHAR = /[A-Za-z0-9._/-]/;
const VALUE_CHAR = /[A-Za-z0-9._-]/;

/**
 * Parses a label selector string as the API server does:
 * `app=web,tier!=db,env in (prod,staging),region notin (eu),canary,!legacy`
 * (`==` is `=`). The empty string selects everything.
 */
export function parseLabelSelector(input: string): Selector {
  const out: Selector = [];
  let i = 0;
  const skipSpaces = () => {
    while (i < input.length && /\s/.test(input[i]!)) i++;
  };
  const read = (allowed: RegExp) => {
    const start = i;
    while (i < input.length && allowed.test(input[i]!)) i++;
    return input.slice(start, i);
  };
  const fail = (why: string): never => {
    throw new SelectorParseError(`unable to parse requirement: ${why} (in ${JSON.stringify(input)})`);
  };

  skipSpaces();
  if (i === input.length) return out;
  for (;;) {
    skipSpaces();
    let negated = false;
    if (input[i] === '!') {
      negated = true;
      i++;
      skipSpaces();
    }
    const key = read(KEY_CHAR);
    if (!key) fail(`expected a label key at position ${i}`);
    const keyProblem = qualifiedNameProblem(key);
    if (keyProblem) fail(`key ${JSON.stringify(key)}: ${keyProblem}`);
    skipSpaces();
    let requirement: Requirement;
    if (negated) {
      requirement = { key, op: '!exists', values: [] };
    } else if (i === input.length || input[i] === ',') {
      requirement = { key, op: 'exists', values: [] };
    } else if (input.startsWith('==', i) || input[i] === '=') {
      i += input.startsWith('==', i) ? 2 : 1;
      skipSpaces();
      requirement = { key, op: '=', values: [read(VALUE_CHAR)] };
    } else if (input.startsWith('!=', i)) {
      i += 2;
      skipSpaces();
      requirement = { key, op: '!=', values: [read(VALUE_CHAR)] };
    } else {
      const word = read(/[a-z]/);
      if (word !== 'in' && word !== 'notin') fail(`expected one of =, ==, !=, in, notin after ${JSON.stringify(key)}`);
      skipSpaces();
      if (input[i] !== '(') fail(`expected '(' after ${word}`);
      i++;
      const values: string[] = [];
      for (;;) {
        skipSpaces();
        values.push(read(VALUE_CHAR));
        skipSpaces();
        if (input[i] === ',') {
          i++;
          continue;
        }
        if (input[i] === ')') {
          i++;
          break;
        }
        fail(`expected ',' or ')' in the values of ${JSON.stringify(key)}`);
      }
      requirement = { key, op: word as 'in' | 'notin', values };
    }
    for (const value of requirement.values) {
      const problem = labelValueProblem(value);
      if (problem) fail(`value ${JSON.stringify(value)} of ${JSON.stringify(key)}: ${problem}`);
    }
    out.push(requirement);
    skipSpaces();
    if (i === input.length) return out;
    if (input[i] !== ',') fail(`expected ',' at position ${i}`);
    i++;
  }
}

export function matchesSelector(selector: Selector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return selector.every((r) => {
    const has = Object.hasOwn(l, r.key);
    const value = l[r.key];
    switch (r.op) {
      case 'exists':
        return has;
      case '!exists':
        return !has;
      case '=':
      case 'in':
        return has && r.values.includes(value!);
      case '!=':
      case 'notin':
        return !has || !r.values.includes(value!);
    }
  });
}

/**
 * A `metav1.LabelSelector` (matchLabels + matchExpressions) as requirements.
 * An absent or empty selector selects everything, as on the server.
 */
export function fromLabelSelector(selector: unknown): Selector {
  if (!isObject(selector)) return [];
  const out: Selector = Object.entries(stringMap(selector['matchLabels'])).map(([key, value]) => ({ key, op: '=', values: [value] }));
  const expressions = Array.isArray(selector['matchExpressions']) ? selector['matchExpressions'] : [];
  for (const expression of expressions) {
    if (!isObject(expression) || typeof expression['key'] !== 'string') continue;
    const values = Array.isArray(expression['values']) ? expression['values'].filter((v): v is string => typeof v === 'string') : [];
    const op = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!exists' }[String(expression['operator'])] as LabelOperator | undefined;
    if (op) out.push({ key: expression['key'], op, values });
  }
  return out;
}

/** The string form (`app=web,tier in (a,b)`), as printed by kubectl and used in `labelSelector` queries. */
export function selectorToString(selector: Selector): string {
  return selector
    .map((r) => {
      switch (r.op) {
        case 'exists':
          return r.key;
        case '!exists':
          return `!${r.key}`;
        case '=':
        case '!=':
          return `${r.key}${r.op}${r.values[0] ?? ''}`;
        case 'in':
        case 'notin':
          return `${r.key} ${r.op} (${r.values.join(',')})`;
      }
    })
    .join(',');
}
