/**
 * @module audit/record
 * An audit event in CloudTrail's record format (the `CloudTrailEvent` string LookupEvents answers
 * with, and each line of `junction audit export`): `userIdentity`, `eventTime`, `eventSource`,
 * `eventName`, `awsRegion`, `sourceIPAddress`, `userAgent`, `errorCode`, `errorMessage`,
 * `requestID`, `eventID`, `readOnly`, `resources`, `recipientAccountId`, … Junction's outcome and
 * a denial's deciding statement go in `additionalEventData`, CloudTrail's place for what a service
 * adds.
 */
import type { AuditEventRecord } from '../store/audit-store.js'

/** `2026-12-02T00:30:00Z`: CloudTrail's eventTime has whole seconds. */
export const cloudTrailTime = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19)}Z`

function userIdentity(e: AuditEventRecord): Record<string, unknown> {
  const id: Record<string, unknown> = { type: e.principalType }
  if (e.principalType === 'Root') id['principalId'] = e.accountId
  id['arn'] = e.principalArn
  id['accountId'] = e.accountId
  if (e.accessKeyId) id['accessKeyId'] = e.accessKeyId
  if (e.principalType === 'IAMUser') id['userName'] = e.userName
  if (e.principalType === 'AssumedRole') {
    // arn:aws:sts::<account>:assumed-role/<role>/<session> → the role as the session's issuer.
    const m = /^arn:([\w-]+):sts::(\d{12}):assumed-role\/([^/]+)\//.exec(e.principalArn)
    if (m)
      id['sessionContext'] = {
        sessionIssuer: {
          type: 'Role',
          arn: `arn:${m[1]}:iam::${m[2]}:role/${m[3]}`,
          accountId: m[2],
          userName: m[3],
        },
      }
  }
  return id
}

/** The CloudTrail record of an event, as an object (JSON.stringify it for the wire). */
export function cloudTrailRecord(e: AuditEventRecord): Record<string, unknown> {
  const additional: Record<string, unknown> = {
    ...(e.additional ? (JSON.parse(e.additional) as Record<string, unknown>) : {}),
    outcome: e.outcome,
  }
  if (e.decidingStatement) additional['decidingStatement'] = e.decidingStatement
  const record: Record<string, unknown> = {
    eventVersion: '1.08',
    userIdentity: userIdentity(e),
    eventTime: cloudTrailTime(e.time),
    eventSource: e.eventSource,
    eventName: e.eventName,
    awsRegion: e.region,
    sourceIPAddress: e.sourceIp,
    userAgent: e.userAgent,
  }
  if (e.errorCode) record['errorCode'] = e.errorCode
  if (e.errorMessage) record['errorMessage'] = e.errorMessage
  record['requestParameters'] = e.requestParameters
    ? (JSON.parse(e.requestParameters) as unknown)
    : null
  record['responseElements'] = null
  record['additionalEventData'] = additional
  record['requestID'] = e.requestId
  record['eventID'] = e.id
  record['readOnly'] = e.readOnly
  record['resources'] = e.resources.map((r) => ({
    accountId: e.accountId,
    type: r.type,
    ARN: r.name,
  }))
  record['eventType'] = e.eventType
  record['managementEvent'] = true
  record['recipientAccountId'] = e.accountId
  record['eventCategory'] = 'Management'
  return record
}

/** LookupEvents' `Event` for a stored event. */
export function lookupEvent(e: AuditEventRecord) {
  return {
    EventId: e.id,
    EventName: e.eventName,
    ReadOnly: String(e.readOnly),
    ...(e.accessKeyId ? { AccessKeyId: e.accessKeyId } : {}),
    EventTime: Math.floor(e.time / 1000),
    EventSource: e.eventSource,
    Username: e.userName,
    Resources: e.resources.map((r) => ({ ResourceType: r.type, ResourceName: r.name })),
    CloudTrailEvent: JSON.stringify(cloudTrailRecord(e)),
  }
}
