/**
 * @module audit/events
 * What one audit event says, built from what the request chain knows: who (the principal and its
 * access key), what (the operation and the resources it names, by their real ARNs), from where,
 * and the outcome (allowed, denied with the deciding statement, error). Request members are
 * recorded only from an allow-list of non-secret names; error messages are scrubbed of every
 * other string the request carried (a validation message may quote a rejected value, which could
 * be a token), so no secret reaches the trail.
 */
import { randomUUID } from 'node:crypto'
import type { Principal } from '../iam/principal.js'
import type { AuditEventRecord, AuditResource } from '../store/audit-store.js'

/** Request members that may be recorded (names, ARNs, ids, filters): never a token or document. */
const ALLOWED = new Set([
  'ConnectionArn',
  'ConnectionName',
  'ProviderType',
  'ProviderTypeFilter',
  'HostArn',
  'HostArnFilter',
  'Name',
  'ProviderEndpoint',
  'ResourceArn',
  'TagKeys',
  'MaxResults',
  'FullRepositoryId',
  'BranchName',
  'CommitId',
  'BaseCommitId',
  'InstallationId',
  'Owner',
  'UserName',
  'RoleName',
  'PolicyArn',
  'PolicyName',
  'Path',
  'PathPrefix',
  'RoleArn',
  'RoleSessionName',
  'DurationSeconds',
  'AccessKeyId',
  'Status',
  'StartTime',
  'EndTime',
  'name',
  'pipelineName',
  'pipelineExecutionId',
  'stageName',
  'actionName',
])
const MAX_TEXT = 256

/**
 * A UUIDv7 (RFC 9562): the event time in its first 48 bits, then random bits. The store finds an
 * event by id on its time index.
 */
export function uuidV7(time: number): string {
  const h = Math.max(0, Math.floor(time)).toString(16).padStart(12, '0').slice(-12)
  const r = randomUUID()
  return `${h.slice(0, 8)}-${h.slice(8)}-7${r.slice(15, 18)}-${r.slice(19)}`
}

/** `Get…`, `List…`, `Describe…`, `Lookup…` and the like change nothing. */
export const isReadOnly = (operation: string): boolean =>
  /^(Get|List|Describe|Lookup|Simulate|Explain|BatchGet)/.test(operation)

/** Removes U+0000 (PostgreSQL text cannot hold it) and bounds the length. */
export function clean(text: string, max = 1024): string {
  const t = text.includes('\u0000') ? text.replaceAll('\u0000', '') : text
  return t.length > max ? `${t.slice(0, max - 3)}...` : t
}

/** The allow-listed members of a request as JSON, or null when none is present. */
export function allowedParameters(input: Record<string, unknown> | undefined): string | null {
  if (!input) return null
  let out: Record<string, unknown> | undefined
  for (const name in input) {
    if (!ALLOWED.has(name)) continue
    const v = input[name]
    let kept: unknown
    if (typeof v === 'string') kept = clean(v, MAX_TEXT)
    else if (typeof v === 'number' || typeof v === 'boolean') kept = v
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string'))
      kept = v.slice(0, 50).map((x: string) => clean(x, MAX_TEXT))
    else continue
    ;(out ??= {})[name] = kept
  }
  return out ? JSON.stringify(out) : null
}

/** Every string of six or more characters in the request outside the allow-list. */
function unlistedStrings(input: unknown, into: string[], depth = 0, listed = false): void {
  if (into.length >= 64 || depth > 6) return
  if (typeof input === 'string') {
    if (!listed && input.length >= 6) into.push(input)
  } else if (Array.isArray(input)) {
    for (const x of input) unlistedStrings(x, into, depth + 1, listed)
  } else if (input && typeof input === 'object') {
    for (const [k, v] of Object.entries(input))
      unlistedStrings(v, into, depth + 1, listed || (depth === 0 && ALLOWED.has(k)))
  }
}

/** An error message fit for the trail: without any unlisted string the request carried. */
export function scrubMessage(message: string, input: unknown): string {
  const strings: string[] = []
  unlistedStrings(input, strings)
  let m = message
  for (const s of strings.sort((a, b) => b.length - a.length))
    if (m.includes(s)) m = m.replaceAll(s, '***')
  return clean(m)
}

/**
 * The part of an IAM denial that names what decided it ("with an explicit deny in an
 * identity-based policy: P (statement S)", "because no identity-based policy allows …"), else the
 * whole message (a denial by the connection's reach says why in full).
 */
export function decidingStatement(message: string): string {
  const m = /\s(with an explicit deny in .*|because no .*)$/s.exec(message)
  return clean(m ? m[1]! : message)
}

const CONNECTIONS_TYPE: Record<string, string> = {
  'codestar-connections': 'AWS::CodeStarConnections',
  codeconnections: 'AWS::CodeConnections',
}

/** A resource named by its ARN, typed as CloudTrail types it. */
export function resourceOfArn(arn: string): AuditResource {
  const parts = arn.split(':')
  const service = parts[2] ?? ''
  const resource = parts.slice(5).join(':')
  const kind = resource.split('/')[0] ?? ''
  let type: string
  if (CONNECTIONS_TYPE[service])
    type = `${CONNECTIONS_TYPE[service]}::${kind === 'host' ? 'Host' : kind === 'connection' ? 'Connection' : 'Resource'}`
  else if (service === 'codepipeline') type = 'AWS::CodePipeline::Pipeline'
  else if (service === 'iam' && (kind === 'user' || kind === 'role' || kind === 'policy'))
    type = `AWS::IAM::${kind === 'user' ? 'User' : kind === 'role' ? 'Role' : 'Policy'}`
  else type = `AWS::${service}::Resource`
  return { type, name: clean(arn, 2048) }
}

const ARN_MEMBERS = ['ConnectionArn', 'HostArn', 'ResourceArn', 'PolicyArn', 'RoleArn']

export interface Naming {
  partition: string
  region: string
}

/** The resources a call names in its input (and creates, in its output), by ARN where known. */
export function resourcesOf(
  accountId: string,
  input: Record<string, unknown> | undefined,
  output: unknown,
  naming: Naming,
): AuditResource[] {
  const out: AuditResource[] = []
  const add = (r: AuditResource) => {
    for (const x of out) if (x.name === r.name) return
    out.push(r)
  }
  const arnsOf = (o: unknown) => {
    if (!o || typeof o !== 'object') return
    for (const m of ARN_MEMBERS) {
      const v = (o as Record<string, unknown>)[m]
      if (typeof v === 'string' && v.startsWith('arn:')) add(resourceOfArn(v))
    }
  }
  // The connection first (the store filters on an event's first resource), from the input or as
  // created; then every other ARN the call names (ARN_MEMBERS starts with ConnectionArn).
  const created = (output as Record<string, unknown> | undefined)?.['ConnectionArn']
  if (input?.['ConnectionArn'] === undefined && typeof created === 'string') arnsOf(output)
  arnsOf(input)
  if (input) {
    const pipeline =
      input['pipelineName'] ??
      input['name'] ??
      (input['pipeline'] as { name?: unknown } | undefined)?.name
    if (typeof pipeline === 'string' && input['ConnectionArn'] === undefined)
      add(
        resourceOfArn(
          `arn:${naming.partition}:codepipeline:${naming.region}:${accountId}:${pipeline}`,
        ),
      )
    const user = input['UserName']
    if (typeof user === 'string') add({ type: 'AWS::IAM::User', name: clean(user, 128) })
    const role = input['RoleName']
    if (typeof role === 'string') add({ type: 'AWS::IAM::Role', name: clean(role, 128) })
  }
  arnsOf(output)
  return out
}

/** CloudTrail's `userIdentity.type` and `Username` for a principal. */
export function identityOf(p: Principal): { type: string; userName: string } {
  // The holder of a signed link (audit/uses.ts): who it is, is not known.
  if (!p.arn.startsWith('arn:')) return { type: 'Unknown', userName: p.arn }
  if (p.kind === 'root') return { type: 'Root', userName: 'root' }
  if (p.kind === 'user') return { type: 'IAMUser', userName: p.userName ?? p.arn.split('/').pop()! }
  return { type: 'AssumedRole', userName: p.arn.split('/').pop() ?? '' }
}

export interface CallFacts {
  time: number
  requestId: string
  eventName: string
  eventSource: string
  eventType: 'AwsApiCall' | 'AwsServiceEvent' | 'AwsConsoleAction'
  principal: Principal
  sourceIp: string | undefined
  userAgent: string | undefined
  input: Record<string, unknown> | undefined
  output: unknown
  /** The error the call ended with (code and message), if any. */
  error: { code: string; message: string } | undefined
  /** Resources beyond those the input and output name. */
  resources?: AuditResource[]
  additional?: Record<string, unknown>
}

/** The event for a call or a use, ready for the store. */
export function buildEvent(f: CallFacts, naming: Naming): AuditEventRecord {
  const p = f.principal
  const who = identityOf(p)
  const resources = resourcesOf(p.accountId, f.input, f.output, naming)
  for (const r of f.resources ?? [])
    if (!resources.some((x) => x.name === r.name)) resources.push(r)
  const e = f.error
  const denied = e !== undefined && /^AccessDenied/.test(e.code)
  const message = e ? scrubMessage(e.message, f.input) : null
  return {
    id: uuidV7(f.time),
    time: f.time,
    accountId: p.accountId,
    eventName: f.eventName,
    eventSource: f.eventSource,
    eventType: f.eventType,
    readOnly: isReadOnly(f.eventName),
    principalArn: clean(p.arn, 2048),
    principalType: who.type,
    accessKeyId: p.accessKeyId,
    userName: who.userName,
    sourceIp: clean((f.sourceIp ?? '').replace(/^::ffff:/, ''), 64),
    userAgent: clean(f.userAgent ?? '', 512),
    outcome: e === undefined ? 'allowed' : denied ? 'denied' : 'error',
    errorCode: e ? clean(e.code, 128) : null,
    errorMessage: message,
    decidingStatement: denied && message ? decidingStatement(message) : null,
    requestId: f.requestId,
    region: naming.region,
    requestParameters: allowedParameters(f.input),
    additional: f.additional ? JSON.stringify(f.additional) : null,
    resources,
  }
}
