/**
 * PostgreSQL connectors (`squall/connectors/postgresql`, on pg): the batched upsert sink and the
 * transactional (two-phase-commit) sink. See docs/connectors/postgresql.md.
 */
export { classifyPgError, quoteIdent, type PgConnectionOptions } from './connection';
export { mergeByKey, PgUpsertSinkBolt, upsertSql, type PgUpsertSinkOptions } from './upsert-sink';
export { PgTransactionalSinkBolt, type PgTransaction, type PgTransactionalSinkOptions } from './transactional-sink';
