/**
 * @module iam/policy/resource-policy
 * A resource-based policy (a role's trust policy) decides only for the callers its statements
 * name in `Principal`. A statement names the caller directly (the user's or role's ARN, or the
 * session's own ARN) or through its account (`"*"`, the account id, the account root's ARN); the
 * difference matters when the decisions of all policy types are combined (see `combine`).
 */
import type { PolicyDocument, Statement } from './document.js'
import {
  evaluate,
  type AuthorizationQuestion,
  type Evaluation,
  type NamedPolicy,
} from './evaluate.js'

/**
 * How a statement names the caller, strongest first: the session's own ARN, the principal's ARN
 * (user, or the role a session belongs to), or only its account.
 */
export type PrincipalMatch = 'session' | 'principal' | 'account' | 'none'

export interface Caller {
  /** The user's ARN (path included), or the assumed-role session's ARN. */
  arn: string
  /** For a session: the real ARN of its role (path included). */
  roleArn?: string
  accountId: string
  partition: string
}

export interface ResourcePolicyEvaluation extends Evaluation {
  /** For an allow: the strongest way an allowing statement names the caller. */
  match: PrincipalMatch
}

const RANK: Record<PrincipalMatch, number> = { session: 3, principal: 2, account: 1, none: 0 }

/** How `st` names `caller` (`none` when it does not). */
export function principalMatch(st: Statement, caller: Caller): PrincipalMatch {
  if (!st.principal) return 'none'
  const ids = st.principal === '*' ? ['*'] : (st.principal['AWS'] ?? [])
  let best: PrincipalMatch = 'none'
  const root = `arn:${caller.partition}:iam::${caller.accountId}:root`
  for (const id of ids) {
    let m: PrincipalMatch = 'none'
    if (caller.roleArn !== undefined && id === caller.arn) m = 'session'
    else if (id === caller.arn || (caller.roleArn !== undefined && id === caller.roleArn))
      m = 'principal'
    else if (id === '*' || id === caller.accountId || id === root) m = 'account'
    if (RANK[m] > RANK[best]) best = m
  }
  return best
}

/**
 * Decides `q` against the statements of `policy` that name `caller`; statements naming someone
 * else do not apply. An explicit Deny that names the caller (or its account) wins.
 */
export function evaluateResourcePolicy(
  policy: { name: string; id: string; document: PolicyDocument },
  caller: Caller,
  q: AuthorizationQuestion,
  explain = false,
): ResourcePolicyEvaluation {
  const matches = new Map<number, PrincipalMatch>()
  for (const st of policy.document.statements) {
    const m = principalMatch(st, caller)
    if (m !== 'none') matches.set(st.index, m)
  }
  const applicable: NamedPolicy = {
    name: policy.name,
    id: policy.id,
    document: {
      version: policy.document.version,
      statements: policy.document.statements.filter((st) => matches.has(st.index)),
    },
  }
  // The deciding statements are needed to know how the caller was named.
  const evaluation = evaluate([applicable], q, true)
  let match: PrincipalMatch = 'none'
  if (evaluation.decision === 'allowed')
    for (const t of evaluation.deciding) {
      const m = matches.get(t.index) ?? 'none'
      if (RANK[m] > RANK[match]) match = m
    }
  return explain ? { ...evaluation, match } : { ...evaluation, trace: [], match }
}
