#!/usr/bin/env node
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { checkSchema } from '@canopy/schema/graphql';
import { API_SCHEMA_FILE, generateSchemaFiles, REPOSITORY_ROOT, SCHEMA_DIR } from './schema-files.js';

const USAGE = `Usage: node services/gateway/dist/schema-cli.js write | check

write  regenerates schema/graphql/ from the code: each subgraph's SDL, the
       supergraph, and the client-facing api.graphql (npm run schema).
check  exit 1 when a file there is stale, or when a commit in the history of
       ${API_SCHEMA_FILE} (or the working tree) breaks clients without the
       commit-message trailer "Schema-Breaking-Change: intended" (npm run schema:check).`;

async function main(command: string | undefined): Promise<number> {
  if (command === 'write') {
    const files = await generateSchemaFiles();
    await mkdir(SCHEMA_DIR, { recursive: true });
    for (const [name, content] of Object.entries(files)) await writeFile(join(SCHEMA_DIR, name), content);
    process.stdout.write(`wrote ${Object.keys(files).map((name) => relative(process.cwd(), join(SCHEMA_DIR, name))).join(', ')}\n`);
    return 0;
  }
  if (command === 'check') {
    const report = await checkSchema({ repo: REPOSITORY_ROOT, dir: SCHEMA_DIR, expected: await generateSchemaFiles(), apiFile: API_SCHEMA_FILE, regenerate: 'npm run schema' });
    for (const line of report.lines) process.stdout.write(`${line}\n`);
    return report.ok ? 0 : 1;
  }
  process.stderr.write(`${USAGE}\n`);
  return 2;
}

process.exitCode = await main(process.argv[2]);
