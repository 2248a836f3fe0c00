/**
 * @module store/sql/audit-repository
 * The audit trail over Kysely, built to cost little per event (it is written for every call):
 * compact rows (the filtered members as columns, the rest as one JSON text), multi-row inserts of
 * fixed sizes compiled once and reused (no query building per batch; SQLite keeps the prepared
 * statements), one transaction per batch. Lookups read newest first on the
 * `(account_id, …, event_time)` indexes with a keyset `(event_time, seq)`; an EventId is a UUIDv7
 * whose time prefix finds its row on the time index.
 */
import { CompiledQuery, type Kysely, type Selectable } from 'kysely'
import type {
  AuditEventRecord,
  AuditQuery,
  AuditRepository,
  AuditResource,
} from '../audit-store.js'
import type { SqlDialectAdapter } from './dialect-adapter.js'
import type { Database } from './schema.js'

const SWEEP_CHUNK = 500

/** Rows per insert statement, largest first: a batch is cut greedily into these. */
const SIZES = [64, 16, 4, 1]
const COLUMNS = [
  'event_id',
  'event_time',
  'account_id',
  'event_name',
  'event_source',
  'read_only',
  'user_name',
  'access_key_id',
  'resource_type',
  'resource_name',
  'data',
] as const

const COLUMN: Record<
  string,
  'event_name' | 'user_name' | 'access_key_id' | 'event_source' | 'resource_name' | 'resource_type'
> = {
  EventName: 'event_name',
  Username: 'user_name',
  AccessKeyId: 'access_key_id',
  EventSource: 'event_source',
  ResourceName: 'resource_name',
  ResourceType: 'resource_type',
}

/** The record's members kept in the JSON text (short keys: they are written for every call). */
interface Data {
  p: string
  pt: string
  et: string
  ip: string
  ua: string
  o: AuditEventRecord['outcome']
  ec?: string
  em?: string
  ds?: string
  r: string
  rg: string
  rp?: string
  ad?: string
  /** Resources after the first, as [type, name]. */
  mr?: [string, string][]
}

/** The epoch milliseconds in a UUIDv7's first 48 bits, or undefined. */
export function uuidV7Time(id: string): number | undefined {
  const m = /^([0-9a-f]{8})-([0-9a-f]{4})-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.exec(id)
  return m ? Number.parseInt(m[1]! + m[2]!, 16) : undefined
}

function params(e: AuditEventRecord, out: unknown[]): void {
  const d: Data = {
    p: e.principalArn,
    pt: e.principalType,
    et: e.eventType,
    ip: e.sourceIp,
    ua: e.userAgent,
    o: e.outcome,
    r: e.requestId,
    rg: e.region,
  }
  if (e.errorCode !== null) d.ec = e.errorCode
  if (e.errorMessage !== null) d.em = e.errorMessage
  if (e.decidingStatement !== null) d.ds = e.decidingStatement
  if (e.requestParameters !== null) d.rp = e.requestParameters
  if (e.additional !== null) d.ad = e.additional
  if (e.resources.length > 1) d.mr = e.resources.slice(1).map((r) => [r.type, r.name])
  const first = e.resources[0]
  out.push(
    e.id,
    e.time,
    e.accountId,
    e.eventName,
    e.eventSource,
    e.readOnly ? 1 : 0,
    e.userName,
    e.accessKeyId,
    first ? first.type : null,
    first ? first.name : null,
    JSON.stringify(d),
  )
}

const toRecord = (r: Selectable<Database['audit_events']>): AuditEventRecord & { seq: number } => {
  const d = JSON.parse(r.data) as Data
  const resources: AuditResource[] =
    r.resource_name !== null ? [{ type: r.resource_type ?? '', name: r.resource_name }] : []
  for (const [type, name] of d.mr ?? []) resources.push({ type, name })
  return {
    seq: Number(r.seq),
    id: r.event_id,
    time: Number(r.event_time),
    accountId: r.account_id,
    eventName: r.event_name,
    eventSource: r.event_source,
    eventType: d.et,
    readOnly: Number(r.read_only) === 1,
    principalArn: d.p,
    principalType: d.pt,
    accessKeyId: r.access_key_id,
    userName: r.user_name,
    sourceIp: d.ip,
    userAgent: d.ua,
    outcome: d.o,
    errorCode: d.ec ?? null,
    errorMessage: d.em ?? null,
    decidingStatement: d.ds ?? null,
    requestId: d.r,
    region: d.rg,
    requestParameters: d.rp ?? null,
    additional: d.ad ?? null,
    resources,
  }
}

export class SqlAuditRepository implements AuditRepository {
  /** The insert statement of each size, compiled on first use. */
  readonly #inserts = new Map<number, string>()

  constructor(
    private readonly db: Kysely<Database>,
    private readonly adapter: SqlDialectAdapter,
  ) {}

  #insertSql(rows: number): string {
    let text = this.#inserts.get(rows)
    if (text === undefined) {
      const row = Object.fromEntries(COLUMNS.map((c) => [c, ''])) as never
      text = this.db
        .insertInto('audit_events')
        .values(Array.from({ length: rows }, () => row))
        .compile().sql
      this.#inserts.set(rows, text)
    }
    return text
  }

  async append(events: AuditEventRecord[]): Promise<void> {
    if (events.length === 0) return
    // The commit does not wait for the disk: what a power failure may take is in docs/audit.md.
    await this.adapter.relaxedTransaction(this.db, async (tx) => {
      let i = 0
      for (const size of SIZES)
        for (; events.length - i >= size; i += size) {
          const values: unknown[] = []
          for (let j = i; j < i + size; j++) params(events[j]!, values)
          await tx.executeQuery(CompiledQuery.raw(this.#insertSql(size), values))
        }
    })
  }

  async lookup(q: AuditQuery): Promise<(AuditEventRecord & { seq: number })[]> {
    let from = q.from
    let until = q.until
    let query = this.db.selectFrom('audit_events').selectAll().where('account_id', '=', q.accountId)
    const a = q.attribute
    if (a) {
      const column = COLUMN[a.key]
      if (column) query = query.where(column, '=', a.value)
      else if (a.key === 'ReadOnly')
        query = query.where('read_only', '=', a.value === 'true' ? 1 : 0)
      else if (a.key === 'EventId') {
        // The id's own time narrows the search to one millisecond of the time index.
        const t = uuidV7Time(a.value)
        if (t === undefined) return []
        from = Math.max(from, t)
        until = Math.min(until, t)
        query = query.where('event_id', '=', a.value.toLowerCase())
      }
    }
    if (from > until) return []
    query = query.where('event_time', '>=', from).where('event_time', '<=', until)
    const after = q.after
    if (after)
      query = query.where((eb) =>
        eb.or([
          eb('event_time', '<', after.time),
          eb.and([eb('event_time', '=', after.time), eb('seq', '<', after.seq)]),
        ]),
      )
    const rows = await query
      .orderBy('event_time', 'desc')
      .orderBy('seq', 'desc')
      .limit(q.limit)
      .execute()
    return rows.map(toRecord)
  }

  /**
   * Deletes from the oldest rows (lowest `seq`, which follows the time of writing), a chunk at a
   * time, until a chunk has nothing old: no index on the time alone is needed for it.
   */
  async deleteBefore(before: number): Promise<number> {
    let removed = 0
    for (;;) {
      const oldest = await this.db
        .selectFrom('audit_events')
        .select(['seq', 'event_time'])
        .orderBy('seq')
        .limit(SWEEP_CHUNK)
        .execute()
      const old = oldest.filter((r) => Number(r.event_time) < before).map((r) => r.seq)
      if (old.length === 0) return removed
      const r = await this.db.deleteFrom('audit_events').where('seq', 'in', old).executeTakeFirst()
      removed += Number(r.numDeletedRows)
    }
  }
}
