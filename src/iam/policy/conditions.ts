/**
 * @module iam/policy/conditions
 * The IAM condition operators, their `…IfExists` forms and the `ForAnyValue:` / `ForAllValues:`
 * set operators. A condition block is true when every clause is; a clause is true when the context
 * value matches any of its values (for the negated operators: none of them).
 */
import { isIP } from 'node:net'
import type { RequestContext } from './context.js'
import { hasVariables, substitute } from './variables.js'
import { wildcardMatch } from './wildcard.js'

type Matcher = (contextValue: string, policyValue: string) => boolean

const num = (s: string): number => (s.trim() === '' ? NaN : Number(s))

/** ISO 8601 dates or epoch seconds, as AWS accepts both. */
function date(s: string): number {
  if (/^\d+(\.\d+)?$/.test(s.trim())) return Number(s) * 1000
  const t = Date.parse(s)
  return Number.isNaN(t) ? NaN : t
}

function compare(parse: (s: string) => number, test: (a: number, b: number) => boolean): Matcher {
  return (c, p) => {
    const a = parse(c)
    const b = parse(p)
    return !Number.isNaN(a) && !Number.isNaN(b) && test(a, b)
  }
}

function ipToBigInt(ip: string): { v: bigint; bits: number } | undefined {
  const kind = isIP(ip)
  if (kind === 4) {
    const parts = ip.split('.').map(Number)
    return { v: parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n), bits: 32 }
  }
  if (kind === 6) {
    const [head = '', tail = ''] = ip.split('::')
    const h = head ? head.split(':') : []
    const t = ip.includes('::') ? (tail ? tail.split(':') : []) : []
    const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h
    if (groups.length !== 8 || groups.some((g) => g.includes('.'))) return undefined
    return { v: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n), bits: 128 }
  }
  return undefined
}

interface Network {
  bits: number
  prefix: bigint
  shift: bigint
}

// Parsed networks and addresses are cached: policies repeat the same few on every request.
const networks = new Map<string, Network | null>()
const addresses = new Map<string, { v: bigint; bits: number } | null>()

function parseNetwork(cidr: string): Network | null {
  let n = networks.get(cidr)
  if (n === undefined) {
    const [base = '', lenText] = cidr.split('/')
    const net = ipToBigInt(base.trim())
    const len = net && (lenText === undefined ? net.bits : Number(lenText))
    n =
      net && len !== undefined && Number.isInteger(len) && len >= 0 && len <= net.bits
        ? { bits: net.bits, shift: BigInt(net.bits - len), prefix: net.v >> BigInt(net.bits - len) }
        : null
    if (networks.size > 10_000) networks.clear()
    networks.set(cidr, n)
  }
  return n
}

function parseAddress(ip: string) {
  let a = addresses.get(ip)
  if (a === undefined) {
    a = ipToBigInt(ip.trim().replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1')) ?? null
    if (addresses.size > 10_000) addresses.clear()
    addresses.set(ip, a)
  }
  return a
}

/** Whether `ip` lies in `cidr` (a bare address is a /32 or /128). */
export function cidrContains(cidr: string, ip: string): boolean {
  const net = parseNetwork(cidr)
  const addr = parseAddress(ip)
  return !!net && !!addr && net.bits === addr.bits && addr.v >> net.shift === net.prefix
}

/** ARNs compare component by component (six colon-separated parts), each with wildcards. */
function arnMatch(c: string, p: string): boolean {
  const split = (s: string) => {
    const parts = s.split(':')
    return parts.length < 6 ? undefined : [...parts.slice(0, 5), parts.slice(5).join(':')]
  }
  const cp = split(c)
  const pp = split(p)
  if (!cp || !pp) return false
  return pp.every((part, i) => wildcardMatch(part, cp[i]!))
}

interface OperatorSpec {
  match: Matcher
  negated: boolean
  /** Values may hold `*` and `?` wildcards (and substituted variables are escaped). */
  like: boolean
}

const spec = (match: Matcher, negated = false, like = false): OperatorSpec => ({
  match,
  negated,
  like,
})
const strEq: Matcher = (c, p) => c === p
const strEqI: Matcher = (c, p) => c.toLowerCase() === p.toLowerCase()
const strLike: Matcher = (c, p) => wildcardMatch(p, c)

const OPERATORS: Record<string, OperatorSpec> = {
  StringEquals: spec(strEq),
  StringNotEquals: spec(strEq, true),
  StringEqualsIgnoreCase: spec(strEqI),
  StringNotEqualsIgnoreCase: spec(strEqI, true),
  StringLike: spec(strLike, false, true),
  StringNotLike: spec(strLike, true, true),
  NumericEquals: spec(compare(num, (a, b) => a === b)),
  NumericNotEquals: spec(
    compare(num, (a, b) => a === b),
    true,
  ),
  NumericLessThan: spec(compare(num, (a, b) => a < b)),
  NumericLessThanEquals: spec(compare(num, (a, b) => a <= b)),
  NumericGreaterThan: spec(compare(num, (a, b) => a > b)),
  NumericGreaterThanEquals: spec(compare(num, (a, b) => a >= b)),
  DateEquals: spec(compare(date, (a, b) => a === b)),
  DateNotEquals: spec(
    compare(date, (a, b) => a === b),
    true,
  ),
  DateLessThan: spec(compare(date, (a, b) => a < b)),
  DateLessThanEquals: spec(compare(date, (a, b) => a <= b)),
  DateGreaterThan: spec(compare(date, (a, b) => a > b)),
  DateGreaterThanEquals: spec(compare(date, (a, b) => a >= b)),
  Bool: spec(strEqI),
  BinaryEquals: spec(strEq),
  IpAddress: spec((c, p) => cidrContains(p, c)),
  NotIpAddress: spec((c, p) => cidrContains(p, c), true),
  ArnEquals: spec(arnMatch, false, true),
  ArnLike: spec(arnMatch, false, true),
  ArnNotEquals: spec(arnMatch, true, true),
  ArnNotLike: spec(arnMatch, true, true),
}

interface ParsedOperator {
  base: string
  set: 'ForAnyValue' | 'ForAllValues' | undefined
  ifExists: boolean
}

function parseOperator(operator: string): ParsedOperator | undefined {
  let rest = operator
  let set: ParsedOperator['set']
  const colon = rest.indexOf(':')
  if (colon >= 0) {
    const prefix = rest.slice(0, colon)
    if (prefix !== 'ForAnyValue' && prefix !== 'ForAllValues') return undefined
    set = prefix
    rest = rest.slice(colon + 1)
  }
  const ifExists = rest.endsWith('IfExists')
  if (ifExists) rest = rest.slice(0, -'IfExists'.length)
  if (rest !== 'Null' && !(rest in OPERATORS)) return undefined
  if (rest === 'Null' && (ifExists || set)) return undefined
  return { base: rest, set, ifExists }
}

export function isConditionOperator(operator: string): boolean {
  return parseOperator(operator) !== undefined
}

const show = (values: string[] | undefined) =>
  values ? `[${values.map((v) => JSON.stringify(v)).join(', ')}]` : 'absent'

/** A condition clause parsed once, for the hot path. */
export interface CompiledClause {
  op: ParsedOperator
  keyLower: string
  values: string[]
}

const compiledClauses = new WeakMap<object, CompiledClause | null>()

/** Parses a clause's operator and key once per clause object. */
export function compileClause(clause: {
  operator: string
  key: string
  values: string[]
}): CompiledClause | null {
  let c = compiledClauses.get(clause)
  if (c === undefined) {
    const op = parseOperator(clause.operator)
    c = op ? { op, keyLower: clause.key.toLowerCase(), values: clause.values } : null
    compiledClauses.set(clause, c)
  }
  return c
}

/** Evaluates one condition clause against the request context. */
export function evaluateClause(
  operator: string,
  key: string,
  policyValues: string[],
  ctx: RequestContext,
): boolean {
  const op = parseOperator(operator)
  if (!op) return false
  return evaluateParsed(op, key.toLowerCase(), policyValues, ctx)
}

/** Evaluates a compiled clause (the hot path). */
export function evaluateCompiled(c: CompiledClause | null, ctx: RequestContext): boolean {
  return c !== null && evaluateParsed(c.op, c.keyLower, c.values, ctx)
}

function evaluateParsed(
  op: ParsedOperator,
  keyLower: string,
  policyValues: string[],
  ctx: RequestContext,
): boolean {
  const contextValues = ctx.getLower(keyLower)
  const present = contextValues !== undefined && contextValues.length > 0
  // Null: "true" means the key must be absent, "false" that it must be present.
  if (op.base === 'Null') return policyValues.some((v) => (v.toLowerCase() === 'true') === !present)
  const s = OPERATORS[op.base]!
  if (!present)
    return op.ifExists || op.set === 'ForAllValues' || (op.set === undefined && s.negated)
  let values = policyValues
  if (policyValues.some(hasVariables)) {
    values = []
    for (const v of policyValues) {
      const substituted = substitute(v, ctx, s.like)
      if (substituted !== undefined) values.push(substituted)
    }
  }
  const matchesAny = (c: string) => values.some((p) => s.match(c, p))
  if (op.set === 'ForAllValues')
    return contextValues.every((c) => (s.negated ? !matchesAny(c) : matchesAny(c)))
  if (op.set === 'ForAnyValue')
    return contextValues.some((c) => (s.negated ? !matchesAny(c) : matchesAny(c)))
  return s.negated ? !contextValues.some(matchesAny) : contextValues.some(matchesAny)
}

/** Says in words what a clause compared, for explanations. */
export function describeClause(
  operator: string,
  key: string,
  policyValues: string[],
  ctx: RequestContext,
): string {
  const contextValues = ctx.get(key)
  const op = parseOperator(operator)
  let note = ''
  if (!contextValues?.length && op && op.base !== 'Null')
    note = op.ifExists
      ? ' (IfExists: an absent key passes)'
      : op.set === 'ForAllValues'
        ? ' (ForAllValues: an absent key passes)'
        : ' (the key is absent from the request)'
  return `${operator} ${key}: request has ${show(contextValues)}, policy wants ${show(policyValues)}${note}`
}
