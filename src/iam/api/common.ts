/**
 * @module iam/api/common
 * Helpers shared by the IAM handlers: ids, ARNs, pagination markers, policy checks and the XML
 * forms of users, roles and policies.
 */
import { createHash, randomBytes } from 'node:crypto'
import { ValidationException } from '../../errors/common.js'
import type { XmlObject } from '../../protocol/query/xml.js'
import type { IamRoleRecord, IamUserRecord, ManagedPolicyRecord } from '../../store/store.js'
import { MalformedPolicyError, parsePolicy, type PolicyKind } from '../policy/document.js'
import { LimitExceeded, MalformedPolicyDocument } from './errors.js'
import type { IamCallContext, Input } from './context.js'

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

/** AWS-style unique ids: a 4-letter prefix (AIDA user, AROA role, ANPA policy) and 17 characters. */
export function iamId(prefix: string): string {
  let out = prefix
  for (const b of randomBytes(17)) out += BASE32[b % 32]
  return out
}

export const str = (input: Input, key: string): string | undefined =>
  input[key] as string | undefined

export function required(input: Input, key: string): string {
  const v = input[key]
  if (typeof v !== 'string')
    throw new ValidationException(
      `1 validation error detected: Value null at '${key.charAt(0).toLowerCase()}${key.slice(1)}' failed to satisfy constraint: Member must not be null`,
    )
  return v
}

/**
 * Markers are opaque: the last name returned, base64url, with a checksum so that a string this
 * service did not return is refused rather than read as a name. (Not a secret: a marker only
 * says where the caller's own listing continues.)
 */
const markerSum = (name: string): string =>
  createHash('sha256').update(`iam-marker\n${name}`).digest('base64url').slice(0, 12)

export const encodeMarker = (name: string): string =>
  `${Buffer.from(name).toString('base64url')}.${markerSum(name)}`

export function decodeMarker(marker: string | undefined): string {
  if (marker === undefined) return ''
  const dot = marker.lastIndexOf('.')
  const name = Buffer.from(marker.slice(0, Math.max(dot, 0)), 'base64url').toString('utf8')
  if (dot <= 0 || encodeMarker(name) !== marker)
    throw new ValidationException('Invalid Marker: it was not returned by this service')
  return name
}

/** Pages `rows` (fetched with one extra) into IsTruncated/Marker. */
export function page<T extends { name: string }>(rows: T[], limit: number) {
  const truncated = rows.length > limit
  const items = rows.slice(0, limit)
  const last = items[items.length - 1]
  return {
    items,
    IsTruncated: truncated,
    Marker: truncated && last ? encodeMarker(last.name) : undefined,
  }
}

export const maxItems = (input: Input): number => (input['MaxItems'] as number | undefined) ?? 100

/** Validates a policy document (MalformedPolicyDocument) and its size (LimitExceeded). */
export function checkPolicy(
  document: string,
  kind: PolicyKind,
  maxBytes: number,
  owner: string,
): void {
  try {
    parsePolicy(document, kind)
  } catch (err) {
    if (err instanceof MalformedPolicyError) throw new MalformedPolicyDocument(err.message)
    throw err
  }
  const size = document.replace(/\s/g, '').length
  if (size > maxBytes)
    throw new LimitExceeded(`Maximum policy size of ${maxBytes} bytes exceeded for ${owner}`)
}

/** Policy documents travel URL-encoded in IAM answers (the AWS CLI decodes them). */
export const encodeDocument = (doc: string): string => encodeURIComponent(doc)

export const userXml = (u: IamUserRecord, tags?: unknown): XmlObject => ({
  Path: u.path,
  UserName: u.name,
  UserId: u.id,
  Arn: u.arn,
  CreateDate: new Date(u.createdAt),
  Tags: tags as XmlObject[] | undefined,
})

export const roleXml = (r: IamRoleRecord, tags?: unknown): XmlObject => ({
  Path: r.path,
  RoleName: r.name,
  RoleId: r.id,
  Arn: r.arn,
  CreateDate: new Date(r.createdAt),
  AssumeRolePolicyDocument: encodeDocument(r.assumeRolePolicy),
  Description: r.description ?? undefined,
  MaxSessionDuration: r.maxSessionDuration,
  Tags: tags as XmlObject[] | undefined,
})

export const policyXml = (p: ManagedPolicyRecord): XmlObject => ({
  PolicyName: p.name,
  PolicyId: p.id,
  Arn: p.arn,
  Path: p.path,
  DefaultVersionId: 'v1',
  AttachmentCount: p.attachmentCount,
  PermissionsBoundaryUsageCount: 0,
  IsAttachable: true,
  Description: p.description ?? undefined,
  CreateDate: new Date(p.createdAt),
  UpdateDate: new Date(p.updatedAt),
})

/** The IAM user a key operation is about: UserName, or the calling user. */
export function keyOwner(input: Input, ctx: IamCallContext): string {
  const name = str(input, 'UserName') ?? ctx.principal.userName
  if (!name)
    throw new ValidationException(
      'UserName is required: the root credentials are managed through <data-dir>/credentials or JUNCTION_ROOT_* variables',
    )
  return name
}
