/**
 * @module iam/policy/document
 * Parses and validates IAM policy documents (identity policies and role trust policies) into a
 * normalised form. Malformed documents are refused with `MalformedPolicyError`, whose message
 * says what is wrong, at write time.
 */
import { isConditionOperator } from './conditions.js'

export type Effect = 'Allow' | 'Deny'

export interface ConditionClause {
  /** As written, e.g. `ForAnyValue:StringLikeIfExists`. */
  operator: string
  key: string
  values: string[]
}

export interface Statement {
  sid?: string
  effect: Effect
  action?: string[]
  notAction?: string[]
  resource?: string[]
  notResource?: string[]
  /** Trust policies: `*` (anyone) or principal type → identifiers. */
  principal?: '*' | Record<string, string[]>
  condition: ConditionClause[]
  /** Position in the document (0-based), for explanations. */
  index: number
}

export interface PolicyDocument {
  version: string
  statements: Statement[]
}

export type PolicyKind = 'identity' | 'trust'

export class MalformedPolicyError extends Error {}

const VERSIONS = ['2012-10-17', '2008-10-17']
const STATEMENT_KEYS = new Set([
  'Sid',
  'Effect',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Principal',
  'NotPrincipal',
  'Condition',
])

const fail = (message: string): never => {
  throw new MalformedPolicyError(message)
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** A string or a list of strings (numbers and booleans in condition values become strings). */
function stringList(v: unknown, field: string, scalars = false): string[] {
  const list = Array.isArray(v) ? v : [v]
  if (list.length === 0) fail(`${field} must not be empty.`)
  return list.map((item) => {
    if (typeof item === 'string') return item
    if (scalars && (typeof item === 'number' || typeof item === 'boolean')) return String(item)
    return fail(`${field} must be a string or a list of strings.`)
  })
}

function parseActions(v: unknown, field: string): string[] {
  const actions = stringList(v, field)
  for (const a of actions)
    if (a !== '*' && !/^[A-Za-z0-9-]+:[A-Za-z0-9*?]*$/.test(a))
      fail(
        `${field} '${a.slice(0, 128)}' must be '*' or prefaced by a service, e.g. codestar-connections:GetConnection.`,
      )
  return actions
}

function parseResources(v: unknown, field: string): string[] {
  const resources = stringList(v, field)
  for (const r of resources)
    if (r !== '*' && !r.startsWith('arn:'))
      fail(`Resource ${r.slice(0, 128)} must be in ARN format or "*".`)
  return resources
}

function parsePrincipal(v: unknown): '*' | Record<string, string[]> {
  if (v === '*') return '*'
  if (!isObject(v)) return fail('Principal must be "*" or an object such as {"AWS": "arn:…"}.')
  const out: Record<string, string[]> = {}
  for (const [type, ids] of Object.entries(v)) {
    if (!['AWS', 'Service', 'Federated', 'CanonicalUser'].includes(type))
      fail(`Invalid principal type '${type.slice(0, 64)}' in policy.`)
    out[type] = stringList(ids, `Principal ${type}`)
  }
  return out
}

function parseCondition(v: unknown): ConditionClause[] {
  if (v === undefined) return []
  if (!isObject(v)) return fail('Condition must be an object of condition operators.')
  const clauses: ConditionClause[] = []
  for (const [operator, block] of Object.entries(v)) {
    if (!isConditionOperator(operator))
      fail(`Invalid condition operator '${operator.slice(0, 64)}'.`)
    if (!isObject(block)) fail(`Condition operator ${operator} must map condition keys to values.`)
    for (const [key, values] of Object.entries(block as Record<string, unknown>)) {
      if (key.length === 0) fail(`Condition operator ${operator} has an empty key.`)
      clauses.push({
        operator,
        key,
        values: stringList(values, `Condition ${operator} ${key}`, true),
      })
    }
  }
  return clauses
}

function parseStatement(raw: unknown, index: number, kind: PolicyKind): Statement {
  if (!isObject(raw)) return fail('Each statement must be a JSON object.')
  for (const k of Object.keys(raw))
    if (!STATEMENT_KEYS.has(k)) fail(`Statement has an unknown field '${k.slice(0, 64)}'.`)
  const effect = raw['Effect']
  if (effect === undefined) fail('Missing required field Effect.')
  if (effect !== 'Allow' && effect !== 'Deny')
    fail(`Invalid effect: ${String(effect).slice(0, 32)}. Use Allow or Deny.`)
  if ('Action' in raw && 'NotAction' in raw)
    fail('A statement cannot have both Action and NotAction.')
  if (!('Action' in raw) && !('NotAction' in raw)) fail('Missing required field Action.')
  if ('Resource' in raw && 'NotResource' in raw)
    fail('A statement cannot have both Resource and NotResource.')
  const st: Statement = {
    effect: effect as Effect,
    condition: parseCondition(raw['Condition']),
    index,
  }
  if (raw['Sid'] !== undefined) {
    if (typeof raw['Sid'] !== 'string' || !/^[A-Za-z0-9 ]*$/.test(raw['Sid']))
      fail('Sid must be a string of letters, digits and spaces.')
    st.sid = raw['Sid'] as string
  }
  if ('Action' in raw) st.action = parseActions(raw['Action'], 'Action')
  if ('NotAction' in raw) st.notAction = parseActions(raw['NotAction'], 'NotAction')
  if (kind === 'identity') {
    if ('Principal' in raw || 'NotPrincipal' in raw)
      fail('Policy document should not specify a principal.')
    if (!('Resource' in raw) && !('NotResource' in raw))
      fail('Policy statement must contain resources.')
  } else {
    if ('Resource' in raw || 'NotResource' in raw) fail('Has prohibited field Resource.')
    if ('NotPrincipal' in raw) fail('NotPrincipal is not supported in trust policies.')
    if (!('Principal' in raw)) fail('Missing required field Principal.')
    st.principal = parsePrincipal(raw['Principal'])
  }
  if ('Resource' in raw) st.resource = parseResources(raw['Resource'], 'Resource')
  if ('NotResource' in raw) st.notResource = parseResources(raw['NotResource'], 'NotResource')
  return st
}

/** Parses a policy document; throws `MalformedPolicyError` with a clear message. */
export function parsePolicy(text: string, kind: PolicyKind = 'identity'): PolicyDocument {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    return fail('Syntax errors in policy: the document is not valid JSON.')
  }
  if (!isObject(raw)) return fail('The policy must be a JSON object.')
  for (const k of Object.keys(raw))
    if (k !== 'Version' && k !== 'Statement' && k !== 'Id')
      fail(`Policy has an unknown field '${k.slice(0, 64)}'.`)
  const version = raw['Version'] ?? '2008-10-17'
  if (typeof version !== 'string' || !VERSIONS.includes(version))
    fail('The policy must contain a valid version string: 2012-10-17 (or the older 2008-10-17).')
  if (raw['Statement'] === undefined) fail('Missing required field Statement.')
  const list = Array.isArray(raw['Statement']) ? raw['Statement'] : [raw['Statement']]
  if (list.length === 0) fail('Statement must not be empty.')
  const statements = list.map((s, i) => parseStatement(s, i, kind))
  if (version !== '2012-10-17' && text.includes('${'))
    fail('Policy variables such as ${aws:username} need "Version": "2012-10-17".')
  return { version: version as string, statements }
}
