/**
 * @module store/sql/pipeline-watches
 * The watched-source index (issue 16 item 4): one `pipeline_watches` row per (source action,
 * event key), written in the same transaction as the pipeline and its sources, so every node on
 * the database sees a create, update or delete at its next event (no cache to invalidate across
 * nodes). Each row carries the SHA-256 of the declaration it was written for: a node's cache of
 * parsed declarations and compiled matchers is keyed by it.
 */
import type { Kysely, Transaction } from 'kysely'
import {
  declarationDigest,
  type PipelineSourceRecord,
  type WatchedSourceRecord,
} from '../pipeline-store.js'
import type { Database } from './schema.js'

type Db = Kysely<Database> | Transaction<Database>

/** Writes the watch rows of `sources` (of the pipeline whose declaration is `declaration`). */
export async function insertWatches(
  db: Db,
  declaration: string,
  sources: PipelineSourceRecord[],
): Promise<void> {
  const digest = declarationDigest(declaration)
  const rows = sources.flatMap((s) =>
    [...new Set(s.watches ?? ['*'])].map((key) => ({
      account_id: s.accountId,
      repository_key: s.repository.toLowerCase(),
      watch_key: key,
      pipeline_name: s.pipelineName,
      action_name: s.actionName,
      connection_arn: s.connectionArn,
      repository: s.repository,
      branch: s.branch,
      declaration_digest: digest,
    })),
  )
  // In chunks: SQLite allows a limited number of bound values per statement.
  for (let i = 0; i < rows.length; i += 50)
    await db
      .insertInto('pipeline_watches')
      .values(rows.slice(i, i + 50))
      .execute()
}

export async function deleteWatches(db: Db, accountId: string, pipelineName: string) {
  await db
    .deleteFrom('pipeline_watches')
    .where('account_id', '=', accountId)
    .where('pipeline_name', '=', pipelineName)
    .execute()
}

/** Sources of the repository watching one of `keys`, once each, in pipeline and action order. */
export async function candidateSources(
  db: Db,
  accountId: string,
  repository: string,
  keys: string[],
): Promise<WatchedSourceRecord[]> {
  if (keys.length === 0) return []
  const rows = await db
    .selectFrom('pipeline_watches')
    .select([
      'pipeline_name',
      'action_name',
      'connection_arn',
      'repository',
      'branch',
      'declaration_digest',
    ])
    .where('account_id', '=', accountId)
    .where('repository_key', '=', repository.toLowerCase())
    .where('watch_key', 'in', keys)
    .execute()
  // Sorted here, not by the query: an ORDER BY lets the planner walk the (account, pipeline)
  // index over every source of the account instead of the key lookup.
  const key = (r: (typeof rows)[number]) => `${r.pipeline_name}\u0000${r.action_name}`
  rows.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
  const out: WatchedSourceRecord[] = []
  let last = ''
  for (const r of rows) {
    const id = key(r)
    if (id === last) continue
    last = id
    out.push({
      accountId,
      pipelineName: r.pipeline_name,
      actionName: r.action_name,
      connectionArn: r.connection_arn,
      repository: r.repository,
      branch: r.branch,
      declarationDigest: r.declaration_digest,
    })
  }
  return out
}

/**
 * Replaces the pipeline's watch rows if its declaration still has `digest`; false when it
 * changed (its update wrote its own rows). Throws a unique violation when another node
 * re-indexed it at the same moment.
 */
export async function rewatch(
  db: Kysely<Database>,
  accountId: string,
  pipelineName: string,
  digest: string,
  sources: PipelineSourceRecord[],
): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    const p = await tx
      .selectFrom('pipelines')
      .select('declaration')
      .where('account_id', '=', accountId)
      .where('name', '=', pipelineName)
      .executeTakeFirst()
    if (!p || declarationDigest(p.declaration) !== digest) return false
    await deleteWatches(tx, accountId, pipelineName)
    await insertWatches(tx, p.declaration, sources)
    return true
  })
}
