/**
 * @module iam/policy/evaluate
 * The IAM decision: an explicit Deny in any policy beats an Allow, an Allow beats the implicit
 * deny. With `explain`, every statement of every policy is traced with the reason it matched or
 * not, which is what `AccessDeniedException` messages, SimulatePrincipalPolicy and
 * `junction iam explain` report.
 */
import {
  compileClause,
  describeClause,
  evaluateClause,
  evaluateCompiled,
  type CompiledClause,
} from './conditions.js'
import type { RequestContext } from './context.js'
import type { PolicyDocument, Statement } from './document.js'
import { hasVariables, substitute } from './variables.js'
import { wildcardMatch, wildcardRegExp } from './wildcard.js'

export interface NamedPolicy {
  /** How explanations name the policy, e.g. `inline policy payments of user alice`. */
  name: string
  /** Its ARN for managed policies (SimulatePrincipalPolicy's SourcePolicyId), else the name. */
  id: string
  document: PolicyDocument
}

export interface AuthorizationQuestion {
  /** e.g. `codestar-connections:DeleteConnection`. */
  action: string
  /** The resource ARN, or `*`. */
  resource: string
  context: RequestContext
}

export type Decision = 'allowed' | 'explicitDeny' | 'implicitDeny'

export interface StatementTrace {
  policy: string
  policyId: string
  sid?: string
  index: number
  effect: 'Allow' | 'Deny'
  matched: boolean
  /** Why it matched or not: action, resource and each condition clause. */
  reasons: string[]
}

export interface Evaluation {
  decision: Decision
  /** The statements that decided (the matching Deny, or the matching Allows). */
  deciding: StatementTrace[]
  /** Every statement, when `explain` was asked for. */
  trace: StatementTrace[]
}

function actionMatches(st: Statement, action: string): boolean {
  if (st.action) return st.action.some((p) => wildcardMatch(p, action, true))
  return !st.notAction!.some((p) => wildcardMatch(p, action, true))
}

function resourceMatches(st: Statement, resource: string, ctx: RequestContext): boolean {
  const test = (p: string) => {
    const pattern = substitute(p, ctx, true)
    return pattern !== undefined && wildcardMatch(pattern, resource)
  }
  if (st.resource) return st.resource.some(test)
  if (st.notResource) return !st.notResource.some(test)
  return true
}

/** A statement prepared once: action and resource tests and parsed conditions. */
interface CompiledStatement {
  action: (a: string) => boolean
  resource: (r: string, ctx: RequestContext) => boolean
  conditions: (CompiledClause | null)[]
}

const compiledStatements = new WeakMap<Statement, CompiledStatement>()

function anyOf(patterns: string[], ignoreCase: boolean): (v: string) => boolean {
  // Stryker disable next-line ConditionalExpression,StringLiteral: a fast path only; wildcardRegExp('*') (dotAll) matches every value too
  if (patterns.includes('*')) return () => true
  const res = patterns.map((p) => wildcardRegExp(p, ignoreCase))
  return (v) => res.some((re) => re.test(v))
}

function compileStatement(st: Statement): CompiledStatement {
  let c = compiledStatements.get(st)
  if (c) return c
  const actions = st.action ? anyOf(st.action, true) : undefined
  const notActions = st.notAction ? anyOf(st.notAction, true) : undefined
  const patterns = st.resource ?? st.notResource
  const negate = st.notResource !== undefined
  let resource: CompiledStatement['resource']
  if (!patterns) resource = () => true
  else if (patterns.some(hasVariables)) resource = (r, ctx) => resourceMatches(st, r, ctx)
  else {
    const test = anyOf(patterns, false)
    resource = negate ? (r) => !test(r) : test
  }
  c = {
    action: actions ?? ((a) => !notActions!(a)),
    resource,
    conditions: st.condition.map(compileClause),
  }
  compiledStatements.set(st, c)
  return c
}

function conditionsHold(c: CompiledStatement, ctx: RequestContext): boolean {
  for (const clause of c.conditions) if (!evaluateCompiled(clause, ctx)) return false
  return true
}

function traceStatement(p: NamedPolicy, st: Statement, q: AuthorizationQuestion): StatementTrace {
  const reasons: string[] = []
  const action = actionMatches(st, q.action)
  reasons.push(
    `${st.action ? 'Action' : 'NotAction'} ${JSON.stringify(st.action ?? st.notAction)} ${action ? 'covers' : 'does not cover'} ${q.action}`,
  )
  const resource = resourceMatches(st, q.resource, q.context)
  if (st.resource || st.notResource)
    reasons.push(
      `${st.resource ? 'Resource' : 'NotResource'} ${JSON.stringify(st.resource ?? st.notResource)} ${resource ? 'covers' : 'does not cover'} ${q.resource}`,
    )
  let conditions = true
  for (const c of st.condition) {
    const ok = evaluateClause(c.operator, c.key, c.values, q.context)
    conditions &&= ok
    reasons.push(
      `condition ${ok ? 'holds' : 'fails'}: ${describeClause(c.operator, c.key, c.values, q.context)}`,
    )
  }
  const out: StatementTrace = {
    policy: p.name,
    policyId: p.id,
    index: st.index,
    effect: st.effect,
    matched: action && resource && conditions,
    reasons,
  }
  if (st.sid !== undefined) out.sid = st.sid
  return out
}

// The fast path's answers carry no trace, so they can be shared (frozen) objects.
const ALLOWED: Evaluation = Object.freeze({
  decision: 'allowed',
  deciding: [],
  trace: [],
}) as Evaluation
const EXPLICIT_DENY: Evaluation = Object.freeze({
  decision: 'explicitDeny',
  deciding: [],
  trace: [],
}) as Evaluation
const IMPLICIT_DENY: Evaluation = Object.freeze({
  decision: 'implicitDeny',
  deciding: [],
  trace: [],
}) as Evaluation

/** Decides `q` against identity policies (all of the principal's policies together). */
export function evaluate(
  policies: readonly NamedPolicy[],
  q: AuthorizationQuestion,
  explain = false,
): Evaluation {
  if (explain) {
    const trace = policies.flatMap((p) =>
      p.document.statements.map((st) => traceStatement(p, st, q)),
    )
    const denies = trace.filter((t) => t.matched && t.effect === 'Deny')
    const allows = trace.filter((t) => t.matched && t.effect === 'Allow')
    const decision: Decision = denies.length
      ? 'explicitDeny'
      : allows.length
        ? 'allowed'
        : 'implicitDeny'
    return { decision, deciding: denies.length ? denies : allows, trace }
  }
  let allowed = false
  for (const p of policies)
    for (const st of p.document.statements) {
      // Stryker disable next-line ConditionalExpression: skips Allows once allowed (speed only): an Allow cannot change 'allowed', and every Deny is still checked
      if (st.effect === 'Allow' && allowed) continue
      const c = compileStatement(st)
      if (!c.action(q.action)) continue
      if (!c.resource(q.resource, q.context)) continue
      if (!conditionsHold(c, q.context)) continue
      if (st.effect === 'Deny') return EXPLICIT_DENY
      allowed = true
    }
  return allowed ? ALLOWED : IMPLICIT_DENY
}
