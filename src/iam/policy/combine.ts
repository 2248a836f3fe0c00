/**
 * @module iam/policy/combine
 * AWS's evaluation logic across policy types: an explicit Deny in any of them (the caller's
 * identity policies, its session policy, the resource's policy) wins. Then, in the same account,
 * a resource-based policy that names the caller directly allows by itself (a session policy still
 * limits it unless the session's own ARN is named); one that names only the account delegates to
 * the caller's identity policies. A role's trust policy must allow in every case. Across
 * accounts, both the resource policy and the caller's own policies must allow.
 */
import type { Decision, Evaluation } from './evaluate.js'
import type { ResourcePolicyEvaluation } from './resource-policy.js'

export interface PolicySet {
  /** The caller's identity-based policies. */
  identity: Evaluation
  /** The caller's session policy (role sessions created with one). */
  session?: Evaluation
  /** The resource's policy (a role's trust policy), evaluated for this caller. */
  resource?: ResourcePolicyEvaluation
  /** The resource policy must allow (true for a role's trust policy). */
  resourceRequired?: boolean
  /** The caller's account differs from the resource's. */
  crossAccount?: boolean
}

/** Which policy type decided: the one that denied, or the one that (last) allowed. */
export type DecidedBy = 'identity' | 'session' | 'resource'

export interface CombinedDecision {
  decision: Decision
  by: DecidedBy
}

export function combine(s: PolicySet): CombinedDecision {
  if (s.identity.decision === 'explicitDeny') return { decision: 'explicitDeny', by: 'identity' }
  if (s.session?.decision === 'explicitDeny') return { decision: 'explicitDeny', by: 'session' }
  if (s.resource?.decision === 'explicitDeny') return { decision: 'explicitDeny', by: 'resource' }
  const resourceAllows = s.resource?.decision === 'allowed'
  const identityAllows = s.identity.decision === 'allowed'
  const sessionAllows = !s.session || s.session.decision === 'allowed'
  const no = (by: DecidedBy): CombinedDecision => ({ decision: 'implicitDeny', by })
  const yes = (by: DecidedBy): CombinedDecision => ({ decision: 'allowed', by })
  if ((s.resourceRequired || s.crossAccount) && !resourceAllows) return no('resource')
  if (s.crossAccount) {
    if (!identityAllows) return no('identity')
    return sessionAllows ? yes('identity') : no('session')
  }
  if (resourceAllows && s.resource!.match === 'session') return yes('resource')
  if (resourceAllows && s.resource!.match === 'principal')
    return sessionAllows ? yes('resource') : no('session')
  if (!identityAllows) return no('identity')
  return sessionAllows ? yes('identity') : no('session')
}
