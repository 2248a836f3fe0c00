/**
 * @module store/sql/migration-pipeline-watches
 * Migration 0010: the watched-source index (`pipeline_watches`, see pipeline-watches.ts). Sources
 * stored before it get one row with the key `*` (every event) and no digest; the engine indexes
 * such a pipeline by its triggers the first time an event considers it.
 */
import { sql, type Kysely, type Migration } from 'kysely'

export const pipelineWatchesMigration: Migration = {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations predate the schema type
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('pipeline_watches')
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('repository_key', 'text', (c) => c.notNull())
      .addColumn('watch_key', 'text', (c) => c.notNull())
      .addColumn('pipeline_name', 'text', (c) => c.notNull())
      .addColumn('action_name', 'text', (c) => c.notNull())
      .addColumn('connection_arn', 'text', (c) => c.notNull())
      .addColumn('repository', 'text', (c) => c.notNull())
      .addColumn('branch', 'text', (c) => c.notNull())
      .addColumn('declaration_digest', 'text', (c) => c.notNull())
      // The lookup: (account, repository, key) → the sources, in pipeline order.
      .addPrimaryKeyConstraint('pipeline_watches_pk', [
        'account_id',
        'repository_key',
        'watch_key',
        'pipeline_name',
        'action_name',
      ])
      .execute()
    await db.schema
      .createIndex('pipeline_watches_pipeline')
      .on('pipeline_watches')
      .columns(['account_id', 'pipeline_name'])
      .execute()
    await sql`insert into pipeline_watches (account_id, repository_key, watch_key, pipeline_name, action_name, connection_arn, repository, branch, declaration_digest) select account_id, repository_key, '*', pipeline_name, action_name, connection_arn, repository, branch, '' from pipeline_sources`.execute(
      db,
    )
  },
}
