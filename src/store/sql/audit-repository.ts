/**
 * @module store/sql/audit-repository
 * The audit trail over Kysely: a batch is one transaction of multi-row inserts (the events, then
 * their resources); lookups read newest first on the `(account_id, …, event_time)` indexes with a
 * keyset `(event_time, seq)`, so every page costs the same; resource filters go through
 * `audit_resources`.
 */
import type { Kysely, Selectable } from 'kysely'
import type {
  AuditEventRecord,
  AuditQuery,
  AuditRepository,
  AuditResource,
} from '../audit-store.js'
import type { Database } from './schema.js'

/** Rows per insert statement: far below SQLite's and PostgreSQL's bound-parameter limits. */
const CHUNK = 200

const COLUMN: Record<
  string,
  'event_id' | 'event_name' | 'user_name' | 'access_key_id' | 'event_source'
> = {
  EventId: 'event_id',
  EventName: 'event_name',
  Username: 'user_name',
  AccessKeyId: 'access_key_id',
  EventSource: 'event_source',
}

const toRecord = (r: Selectable<Database['audit_events']>): AuditEventRecord & { seq: number } => ({
  seq: Number(r.seq),
  id: r.event_id,
  time: Number(r.event_time),
  accountId: r.account_id,
  eventName: r.event_name,
  eventSource: r.event_source,
  eventType: r.event_type,
  readOnly: Number(r.read_only) === 1,
  principalArn: r.principal_arn,
  principalType: r.principal_type,
  accessKeyId: r.access_key_id,
  userName: r.user_name,
  sourceIp: r.source_ip,
  userAgent: r.user_agent,
  outcome: r.outcome as AuditEventRecord['outcome'],
  errorCode: r.error_code,
  errorMessage: r.error_message,
  decidingStatement: r.deciding_statement,
  requestId: r.request_id,
  region: r.region,
  requestParameters: r.request_parameters,
  additional: r.additional,
  resources: JSON.parse(r.resources) as AuditResource[],
})

export class SqlAuditRepository implements AuditRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async append(events: AuditEventRecord[]): Promise<void> {
    if (events.length === 0) return
    await this.db.transaction().execute(async (tx) => {
      for (let i = 0; i < events.length; i += CHUNK) {
        const chunk = events.slice(i, i + CHUNK)
        await tx
          .insertInto('audit_events')
          .values(
            chunk.map((e) => ({
              event_id: e.id,
              event_time: e.time,
              account_id: e.accountId,
              event_name: e.eventName,
              event_source: e.eventSource,
              event_type: e.eventType,
              read_only: e.readOnly ? 1 : 0,
              principal_arn: e.principalArn,
              principal_type: e.principalType,
              access_key_id: e.accessKeyId,
              user_name: e.userName,
              source_ip: e.sourceIp,
              user_agent: e.userAgent,
              outcome: e.outcome,
              error_code: e.errorCode,
              error_message: e.errorMessage,
              deciding_statement: e.decidingStatement,
              request_id: e.requestId,
              region: e.region,
              request_parameters: e.requestParameters,
              additional: e.additional,
              resources: JSON.stringify(e.resources),
            })),
          )
          .execute()
        const resources = chunk.flatMap((e) =>
          e.resources.map((r) => ({
            event_id: e.id,
            account_id: e.accountId,
            event_time: e.time,
            resource_type: r.type,
            resource_name: r.name,
          })),
        )
        if (resources.length > 0) await tx.insertInto('audit_resources').values(resources).execute()
      }
    })
  }

  async lookup(q: AuditQuery): Promise<(AuditEventRecord & { seq: number })[]> {
    let query = this.db
      .selectFrom('audit_events')
      .selectAll()
      .where('account_id', '=', q.accountId)
      .where('event_time', '>=', q.from)
      .where('event_time', '<=', q.until)
    const a = q.attribute
    if (a) {
      const column = COLUMN[a.key]
      if (column) query = query.where(column, '=', a.value)
      else if (a.key === 'ReadOnly')
        query = query.where('read_only', '=', a.value === 'true' ? 1 : 0)
      else {
        const byName = a.key === 'ResourceName'
        query = query.where('event_id', 'in', (sub) =>
          sub
            .selectFrom('audit_resources')
            .select('event_id')
            .where('account_id', '=', q.accountId)
            .where(byName ? 'resource_name' : 'resource_type', '=', a.value)
            .where('event_time', '>=', q.from)
            .where('event_time', '<=', q.until),
        )
      }
    }
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

  async deleteBefore(before: number): Promise<number> {
    return this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('audit_resources').where('event_time', '<', before).execute()
      const r = await tx
        .deleteFrom('audit_events')
        .where('event_time', '<', before)
        .executeTakeFirst()
      return Number(r.numDeletedRows)
    })
  }
}
