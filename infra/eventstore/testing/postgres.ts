/**
 * The PostgreSQL suites run only through `npm run test:postgres`, which must
 * be given a server: a missing URL fails the run instead of skipping it.
 */
export function requirePostgresUrl(): string {
  const url = process.env.CANOPY_TEST_POSTGRES_URL;
  if (!url) {
    throw new Error('CANOPY_TEST_POSTGRES_URL is not set. Point it at a PostgreSQL server, e.g. postgres://postgres@127.0.0.1:5432/test');
  }
  return url;
}

/** A schema name of its own per suite, so suites never share tables. */
export function uniqueSchema(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}`;
}
