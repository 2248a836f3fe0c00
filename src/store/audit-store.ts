/**
 * @module store/audit-store
 * The audit trail's rows: one per API call and one per use of a connection, with who, what, when,
 * from where and the outcome (see audit/). Rows are appended in batches, read newest first with
 * CloudTrail's LookupEvents filters (one attribute, a time range, keyset pages), and removed once
 * older than the retention.
 */

/** A resource an event touched, as CloudTrail names it (`AWS::CodeStarConnections::Connection`). */
export interface AuditResource {
  type: string
  name: string
}

export interface AuditEventRecord {
  /** The event's id (a UUID, CloudTrail's `eventID`). */
  id: string
  /** Epoch milliseconds. */
  time: number
  accountId: string
  eventName: string
  /** `codestar-connections.amazonaws.com`, `iam.amazonaws.com`, `junction`, … */
  eventSource: string
  /** `AwsApiCall` for an API call, `AwsServiceEvent` for a use of a connection. */
  eventType: string
  readOnly: boolean
  principalArn: string
  /** `Root`, `IAMUser` or `AssumedRole`. */
  principalType: string
  accessKeyId: string
  /** The IAM user's name, the role session's name, or `root`. */
  userName: string
  sourceIp: string
  userAgent: string
  outcome: 'allowed' | 'denied' | 'error'
  errorCode: string | null
  errorMessage: string | null
  /** For a denial: the policy and statement that decided it (or why none allowed it). */
  decidingStatement: string | null
  requestId: string
  region: string
  /** Allow-listed, non-secret request members as JSON (`null`: none). */
  requestParameters: string | null
  /** Further facts as JSON (a use's kind and provider action), `null`: none. */
  additional: string | null
  resources: AuditResource[]
}

/** One of LookupEvents' attributes (CloudTrail allows one per call). */
export type AuditAttribute =
  | 'EventId'
  | 'EventName'
  | 'ReadOnly'
  | 'Username'
  | 'ResourceType'
  | 'ResourceName'
  | 'EventSource'
  | 'AccessKeyId'

export interface AuditQuery {
  accountId: string
  /** Inclusive bounds, epoch milliseconds. */
  from: number
  until: number
  attribute?: { key: AuditAttribute; value: string }
  /** The last row of the previous page (events are returned newest first). */
  after?: { time: number; seq: number }
  limit: number
}

export interface AuditRepository {
  /** Appends events (one transaction for the batch). */
  append(events: AuditEventRecord[]): Promise<void>
  /** Newest first; each with its `seq`, the keyset for the next page. */
  lookup(q: AuditQuery): Promise<(AuditEventRecord & { seq: number })[]>
  /** Removes events older than `before` (epoch ms); how many went. */
  deleteBefore(before: number): Promise<number>
}
