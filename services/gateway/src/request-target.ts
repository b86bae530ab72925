/**
 * The path and query string of a request target. The usual origin-form
 * (`/graphql?x=1`) is split as it is, without a URL parse per request; other
 * forms (absolute, from proxies) go through URL.
 */
export function requestTarget(target: string | undefined): { path: string; search: string } {
  const text = target ?? '/';
  if (!text.startsWith('/')) {
    const url = new URL(text, 'http://localhost');
    return { path: url.pathname, search: url.search };
  }
  const query = text.indexOf('?');
  return query === -1 ? { path: text, search: '' } : { path: text.slice(0, query), search: text.slice(query) };
}
