#!/usr/bin/env node
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { SingleBar } from 'cli-progress';
import { pino } from 'pino';
import type { HistoryEntry, HistoryFilter } from '@canopy/workspaces';
import { AuthConfigError, authSettingsFromEnv, mintToken, parseTtl, resolveAuthConfig } from './auth/index.js';
import { ConfigError, DEFAULT_SUBGRAPH_PORTS, loadConfig, SUBGRAPHS, type SubgraphName } from './config.js';
import { DataDirInUse, lockDataDir } from './data-dir-lock.js';

const USAGE = `Usage: canopy token --user <id> [--name <display name>] [--email <address>] [--ttl <duration>]
       canopy history (--workspace <id> | --stream <name>) [--since <time>] [--until <time>] [--actor <id>] [--json]
       canopy replay [--projection <name>]
       canopy subgraph workspaces|backups|workloads|cost [--port <port>] [--host <address>]

Mints a bearer token for the Canopy API and prints it alone on stdout:
  TOKEN=$(npx canopy token --user alice@example.com)
  curl -H "Authorization: Bearer $TOKEN" ...

  --user   the user id (the token's sub)                        required
  --name   display name                                         optional
  --email  e-mail address                                       optional
  --ttl    lifetime: 30m, 12h, 7d or seconds (3600); max 30d    default 12h

Signs with CANOPY_JWT_SECRET when set, else with the development secret in
$CANOPY_DATA_DIR/dev-jwt-secret (default .canopy/data), created if missing: the
same secret the server uses. Issuer and audience: CANOPY_JWT_ISSUER and
CANOPY_JWT_AUDIENCE (default canopy). Not available with CANOPY_JWKS_URL: tokens
then come from the identity provider.

history prints the events of a workspace (its own stream and its
organization's events about it: created, renamed, deleted) or of any stream,
oldest first: when, log position, stream and revision, type, who, and what.
  --since / --until  ISO 8601 times (recorded at or after / before)
  --actor            only the events this user caused
  --json             one JSON object per line, for machines
Reads the log the server is configured with (same CANOPY_* variables). An
embedded log (the default) can be read only while the server is stopped.
Secret values never appear: only their keys.

replay brings the read models (membership, quotas, workspace_summary, audit; or the
one named) up to the log's head, takes a checksum of their tables, rebuilds
them from zero with a progress bar, and checks the checksums are equal:
exit 0 when they all are, 1 when one differs. Same log and data directory
rules as history.

subgraph serves one subgraph alone over HTTP (/graphql, /healthz, /metrics)
until SIGINT or SIGTERM, for a gateway (CANOPY_SUBGRAPH_<NAME>_URL) or
any Federation 2 router to route to. Same CANOPY_* configuration and
authentication as the server; it opens the log, the keys and the read models
itself (an embedded data directory: while no other process has it).
  --port   default $PORT, else ${DEFAULT_SUBGRAPH_PORTS.workspaces} (workspaces), ${DEFAULT_SUBGRAPH_PORTS.backups} (backups), ${DEFAULT_SUBGRAPH_PORTS.workloads} (workloads), ${DEFAULT_SUBGRAPH_PORTS.cost} (cost)
  --host   default $HOST, else 127.0.0.1`;

/** Exit code 2: the command line or the configuration is wrong. */
class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;

/** A command's options (strict, no positionals, -h/--help for the usage); a wrong command line is a UsageError. */
function commandOptions<T extends Options>(args: string[], options: T) {
  const withHelp = { ...options, help: { type: 'boolean', short: 'h' } } as const;
  let values;
  try {
    ({ values } = parseArgs({ args, strict: true, allowPositionals: false, options: withHelp as T & typeof withHelp }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if ((values as { help?: boolean }).help) throw new UsageError('');
  return values;
}

async function token(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const values = commandOptions(args, { user: { type: 'string' }, name: { type: 'string' }, email: { type: 'string' }, ttl: { type: 'string', default: '12h' } });
  if (!values.user) throw new UsageError('--user <id> is required.');
  let ttlSeconds: number;
  try {
    ttlSeconds = parseTtl(values.ttl);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (env['CANOPY_JWKS_URL'] !== undefined) {
    throw new AuthConfigError(
      'CANOPY_JWKS_URL is set: the server verifies tokens from your identity provider, so get a token from it; `canopy token` only mints tokens signed with CANOPY_JWT_SECRET or the development secret.',
    );
  }
  const config = await resolveAuthConfig(authSettingsFromEnv(env));
  if (config.kind !== 'hs256') throw new Error('unreachable: CANOPY_JWKS_URL is refused above');
  const now = new Date();
  const jwt = await mintToken({ secret: config.secret, userId: values.user, name: values.name, email: values.email, ttlSeconds, issuer: config.issuer, audience: config.audience, now });
  process.stdout.write(`${jwt}\n`);
  const signedWith = config.source === 'env' ? 'CANOPY_JWT_SECRET' : `the development secret in ${config.devFile}`;
  const expires = new Date(now.getTime() + ttlSeconds * 1000).toISOString();
  process.stderr.write(`Token for ${values.user}, valid until ${expires}, signed with ${signedWith}. Send it as: Authorization: Bearer <token>\n`);
}

async function history(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const values = commandOptions(args, {
    workspace: { type: 'string' },
    stream: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    actor: { type: 'string' },
    json: { type: 'boolean' },
  });
  if ((values.workspace === undefined) === (values.stream === undefined)) throw new UsageError('history needs one of --workspace <id> or --stream <name>.');
  const filter: HistoryFilter = { since: time('--since', values.since), until: time('--until', values.until), actor: values.actor };
  const config = loadConfig(env);
  const release = config.embeddedDatabases ? await lockDataDir(config.dataDir) : async () => {};
  try {
    // Each command loads what it needs: the log, the domain and the read models would slow down every other command's start.
    const [{ EventLog, openEventStore }, { canopyEventRegistry }, { streamHistory, workspaceHistory }] = await Promise.all([
      import('@canopy/eventstore'),
      import('@canopy/schema'),
      import('@canopy/workspaces'),
    ]);
    const opened = await openEventStore(config.eventStore);
    try {
      const log = new EventLog(opened.store, canopyEventRegistry());
      const entries = values.workspace !== undefined ? await workspaceHistory(log, values.workspace, filter) : await streamHistory(log, values.stream!, filter);
      for (const entry of entries) process.stdout.write(`${values.json ? asJson(entry) : asLine(entry)}\n`);
      process.stderr.write(`${entries.length} event${entries.length === 1 ? '' : 's'} from ${opened.description}\n`);
    } finally {
      await opened.close();
    }
  } finally {
    await release();
  }
}

async function replayCommand(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const values = commandOptions(args, { projection: { type: 'string' } });
  const config = loadConfig(env);
  const release = config.embeddedDatabases ? await lockDataDir(config.dataDir) : async () => {};
  const [{ openEventStore }, { openReadModelDb }, { replay, UnknownProjection }] = await Promise.all([import('@canopy/eventstore'), import('@canopy/projections'), import('./replay.js')]);
  try {
    const opened = await openEventStore(config.eventStore);
    const db = await openReadModelDb(config.readModels);
    const bar = new SingleBar({ format: '{name} [{bar}] {percentage}% | position {value}/{total} | {rate} events/s', stream: process.stderr, hideCursor: true });
    try {
      const outcomes = await replay(opened.store, db, {
        name: values.projection,
        onStart: (name, head) => bar.start(Math.max(Number(head), 1), 0, { name, rate: 0 }),
        onProgress: (progress) => bar.update(Number(progress.position ?? 0n), { rate: Math.round(progress.eventsPerSecond) }),
      });
      bar.stop();
      for (const o of outcomes) {
        process.stdout.write(
          `${o.name} v${o.version}: ${o.events} events rebuilt at ${Math.round(o.eventsPerSecond)} events/s; checksum live ${o.live.checksum} rebuilt ${o.rebuilt.checksum} at position ${o.rebuilt.position ?? 0n}: ${o.matches ? 'equal' : 'DIFFERENT'}\n`,
        );
      }
      return outcomes.every((o) => o.matches) ? 0 : 1;
    } finally {
      bar.stop();
      await db.close();
      await opened.close();
    }
  } catch (error) {
    if (error instanceof UnknownProjection) throw new UsageError(error.message);
    throw error;
  } finally {
    await release();
  }
}

function time(option: string, text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw new UsageError(`${option} must be an ISO 8601 time such as 2026-11-23 or 2026-11-23T18:00:00Z; got "${text}".`);
  return date;
}

function asJson(entry: HistoryEntry): string {
  return JSON.stringify({ ...entry, position: String(entry.position), revision: String(entry.revision), recordedAt: entry.recordedAt.toISOString() });
}

function asLine(entry: HistoryEntry): string {
  const data = JSON.stringify(entry.data);
  return `${entry.recordedAt.toISOString()}  #${entry.position}  ${entry.stream}@${entry.revision}  ${entry.type}  by ${entry.actor ?? 'unknown'}  ${data.length > 160 ? `${data.slice(0, 159)}…` : data}`;
}

async function subgraph(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [name, ...rest] = args;
  if (!SUBGRAPHS.includes(name as SubgraphName)) throw new UsageError(`subgraph needs a subgraph name: ${SUBGRAPHS.join(', ')}.`);
  const values = commandOptions(rest, { port: { type: 'string' }, host: { type: 'string' } });
  const config = loadConfig({ ...env, PORT: values.port ?? env['PORT'] ?? String(DEFAULT_SUBGRAPH_PORTS[name as SubgraphName]), ...(values.host === undefined ? {} : { HOST: values.host }) });
  const logger = pino({ level: config.logLevel });
  // Loaded here: the server's modules (Apollo, the subgraph) would slow down every other command's start.
  const { startSubgraph } = await import('./subgraph.js');
  const running = await startSubgraph(config, name as SubgraphName, logger);
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  logger.info({ signal }, 'shutting down');
  await running.stop();
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'token') await token(rest, process.env);
    else if (command === 'history') await history(rest, process.env);
    else if (command === 'replay') return await replayCommand(rest, process.env);
    else if (command === 'subgraph') return await subgraph(rest, process.env);
    else throw new UsageError(command === undefined || command === '--help' || command === '-h' ? '' : `Unknown command "${command}".`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message ? `canopy: ${error.message}\n\n` : ''}${USAGE}\n`);
      return 2;
    }
    if (error instanceof AuthConfigError || error instanceof ConfigError || error instanceof DataDirInUse) {
      process.stderr.write(`canopy: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`canopy: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
