import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ApolloServerPlugin } from '@apollo/server';

/** Where the explorer's files are served from (development mode only). */
export const GRAPHIQL_ASSETS_PATH = '/graphiql/';

export interface Asset {
  contentType: string;
  body: Buffer;
}

export interface GraphiQL {
  /** Apollo's landing page: the explorer, for `GET /graphql` with `accept: text/html`. */
  plugin: ApolloServerPlugin;
  /** The file served at `path` (under GRAPHIQL_ASSETS_PATH), or undefined. */
  asset(path: string): Promise<Asset | undefined>;
}

const require = createRequire(import.meta.url);
const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`));

/** The prebuilt browser bundles of graphiql, react and react-dom, from node_modules: no CDN, no bundler. */
const FILES: Record<string, { file: () => string; contentType: string }> = {
  'react.production.min.js': { file: () => join(packageDir('react'), 'umd', 'react.production.min.js'), contentType: 'text/javascript; charset=utf-8' },
  'react-dom.production.min.js': { file: () => join(packageDir('react-dom'), 'umd', 'react-dom.production.min.js'), contentType: 'text/javascript; charset=utf-8' },
  'graphiql.min.js': { file: () => join(packageDir('graphiql'), 'graphiql.min.js'), contentType: 'text/javascript; charset=utf-8' },
  'graphiql.min.css': { file: () => join(packageDir('graphiql'), 'graphiql.min.css'), contentType: 'text/css; charset=utf-8' },
};

/** Reads the page's settings and renders GraphiQL with them; served as a file so the page has no inline script. */
const START_SCRIPT = `'use strict';
(function () {
  var config = JSON.parse(document.getElementById('graphiql-config').textContent);
  var fetcher = GraphiQL.createFetcher({
    url: config.endpoint,
    subscriptionUrl: location.origin.replace(/^http/, 'ws') + config.endpoint,
    wsConnectionParams: config.headers.Authorization ? { authorization: config.headers.Authorization } : {},
  });
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultHeaders: JSON.stringify(config.headers, null, 2),
      shouldPersistHeaders: false,
      defaultEditorToolsVisibility: 'headers',
    }),
  );
})();
`;

/**
 * GraphiQL at the GraphQL endpoint, with an `Authorization` header
 * prefilled when `token` is given (called for each page, so the token is
 * always fresh).
 */
export function createGraphiQL(options: { endpoint: string; token?: () => Promise<string> }): GraphiQL {
  const cache = new Map<string, Promise<Asset | undefined>>();
  const load = async (name: string): Promise<Asset | undefined> => {
    if (name === 'start.js') return { contentType: 'text/javascript; charset=utf-8', body: Buffer.from(START_SCRIPT) };
    const entry = Object.hasOwn(FILES, name) ? FILES[name] : undefined;
    return entry && { contentType: entry.contentType, body: await readFile(entry.file()) };
  };
  const page = async () => {
    const authorization = options.token ? `Bearer ${await options.token()}` : 'Bearer <a token: npx canopy token --user you@example.com>';
    return renderPage({ endpoint: options.endpoint, headers: { Authorization: authorization } });
  };
  return {
    plugin: {
      async serverWillStart() {
        return {
          async renderLandingPage() {
            return { html: page };
          },
        };
      },
    },
    asset(path) {
      if (!path.startsWith(GRAPHIQL_ASSETS_PATH)) return Promise.resolve(undefined);
      const name = path.slice(GRAPHIQL_ASSETS_PATH.length);
      let loaded = cache.get(name);
      if (!loaded) {
        loaded = load(name);
        // Only the known files are kept: a request for anything else must not grow the cache.
        if (name === 'start.js' || Object.hasOwn(FILES, name)) cache.set(name, loaded);
      }
      return loaded;
    },
  };
}

function renderPage(config: { endpoint: string; headers: Record<string, string> }): string {
  // JSON inside <script>: `<` escaped so that no value can close the element.
  const json = JSON.stringify(config).replace(/</g, '\\u003c');
  const asset = (name: string) => `${GRAPHIQL_ASSETS_PATH}${name}`;
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="referrer" content="no-referrer">
  <title>Canopy GraphQL explorer</title>
  <link rel="stylesheet" href="${asset('graphiql.min.css')}">
  <style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
  <div id="graphiql">Loading the explorer…</div>
  <script id="graphiql-config" type="application/json">${json}</script>
  <script src="${asset('react.production.min.js')}"></script>
  <script src="${asset('react-dom.production.min.js')}"></script>
  <script src="${asset('graphiql.min.js')}"></script>
  <script src="${asset('start.js')}"></script>
</body>
</html>
`;
}
