/**
 * @module audit/lookup
 * CloudTrail's `LookupEvents` over the audit trail: at most one lookup attribute (as CloudTrail
 * allows), a time range (default: the whole retention), up to 50 events a page, newest first, and
 * an opaque NextToken signed under the master key that carries the keyset and a digest of the
 * query it belongs to (an altered token, or one reused with other filters, is refused). A caller
 * sees only its own account's events. Errors are the model's.
 */
import { createHash } from 'node:crypto'
import {
  InvalidEventCategoryException,
  InvalidLookupAttributesException,
  InvalidMaxResultsException,
  InvalidNextTokenException,
  InvalidTimeRangeException,
  LookupAttributeKeyValues,
  type LookupEventsResponse,
} from '../generated/cloudtrail.js'
import type { Signer } from '../connect/signed.js'
import type { AuditAttribute, AuditQuery, AuditRepository } from '../store/audit-store.js'
import { lookupEvent } from './record.js'

const TOKEN_TTL_MS = 24 * 3600 * 1000
const MAX_VALUE = 2000

export interface LookupDeps {
  repository: AuditRepository
  signer: Signer
  now: () => number
  retentionMs: number
  /** Writes buffered events first, so that a lookup sees every call before it (one node). */
  flush: () => Promise<void>
}

/** The model's answer with its timestamps as AWS JSON 1.1 sends them (epoch seconds). */
export type LookupAnswer = Omit<LookupEventsResponse, 'Events'> & {
  Events: ReturnType<typeof lookupEvent>[]
}

interface Page {
  t: number
  s: number
  q: string
}

/** Epoch seconds (AWS JSON 1.1 timestamps) to milliseconds; throws on anything else. */
function millis(name: string, v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new InvalidTimeRangeException(`${name} must be a timestamp`)
  return Math.round(v * 1000)
}

function attributeOf(input: Record<string, unknown>): AuditQuery['attribute'] {
  const list = input['LookupAttributes']
  if (list === undefined || list === null) return undefined
  if (!Array.isArray(list))
    throw new InvalidLookupAttributesException('LookupAttributes must be a list')
  if (list.length === 0) return undefined
  if (list.length > 1)
    throw new InvalidLookupAttributesException(
      'You can specify only one lookup attribute in a request',
    )
  const a = list[0] as { AttributeKey?: unknown; AttributeValue?: unknown } | null
  const key = a?.AttributeKey
  const value = a?.AttributeValue
  if (typeof key !== 'string' || !(LookupAttributeKeyValues as readonly string[]).includes(key))
    throw new InvalidLookupAttributesException(
      `AttributeKey must be one of ${LookupAttributeKeyValues.join(', ')}`,
    )
  if (typeof value !== 'string' || value.length < 1 || value.length > MAX_VALUE)
    throw new InvalidLookupAttributesException(
      `AttributeValue must be a string of 1 to ${MAX_VALUE} characters`,
    )
  if (key === 'ReadOnly' && value !== 'true' && value !== 'false')
    throw new InvalidLookupAttributesException(
      "The ReadOnly attribute's value must be true or false",
    )
  return { key: key as AuditAttribute, value }
}

/** Checks the members whose faults have their own modelled errors (before the generic check). */
export function checkLookupInput(input: Record<string, unknown>): void {
  attributeOf(input)
  const max = input['MaxResults']
  if (
    max !== undefined &&
    max !== null &&
    (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 50)
  )
    throw new InvalidMaxResultsException('MaxResults must be an integer from 1 to 50')
  const category = input['EventCategory']
  if (category !== undefined && category !== null && category !== 'insight')
    throw new InvalidEventCategoryException('EventCategory must be insight')
  millis('StartTime', input['StartTime'])
  millis('EndTime', input['EndTime'])
}

export async function lookupEvents(
  accountId: string,
  input: Record<string, unknown>,
  deps: LookupDeps,
): Promise<LookupAnswer> {
  checkLookupInput(input)
  const attribute = attributeOf(input)
  const now = deps.now()
  const from = millis('StartTime', input['StartTime']) ?? now - deps.retentionMs
  const until = millis('EndTime', input['EndTime']) ?? now
  if (from > until)
    throw new InvalidTimeRangeException('The StartTime must be earlier than the EndTime')
  // Junction records no CloudTrail Insights events.
  if (input['EventCategory'] === 'insight') return { Events: [] }
  const limit = (input['MaxResults'] as number | undefined) ?? 50
  // A token belongs to one account and one query; the time range as given (absent: absent).
  const digest = createHash('sha256')
    .update(
      JSON.stringify([
        accountId,
        attribute ?? null,
        input['StartTime'] ?? null,
        input['EndTime'] ?? null,
      ]),
    )
    .digest('base64url')
    .slice(0, 22)
  let after: Page | undefined
  const token = input['NextToken']
  if (token !== undefined && token !== null) {
    after = typeof token === 'string' ? deps.signer.open<Page>('audit-page', token) : undefined
    if (!after || after.q !== digest)
      throw new InvalidNextTokenException(
        'The NextToken is not valid: it was altered, has expired, or belongs to another query',
      )
  } else await deps.flush()
  const rows = await deps.repository.lookup({
    accountId,
    from,
    until,
    ...(attribute ? { attribute } : {}),
    ...(after ? { after: { time: after.t, seq: after.s } } : {}),
    limit: limit + 1,
  })
  const page = rows.slice(0, limit)
  const last = page[page.length - 1]
  const out: LookupAnswer = {
    Events: page.map(lookupEvent),
  }
  if (rows.length > limit && last)
    out.NextToken = deps.signer.sign(
      'audit-page',
      { t: last.time, s: last.seq, q: digest } satisfies Page,
      TOKEN_TTL_MS,
    )
  return out
}
