/**
 * @module iam/api/simulate
 * SimulatePrincipalPolicy: how the evaluator decides actions on resources for a user or role,
 * with the statements that matched and the context keys the policies read but the request did not
 * give. `simulate` also gives a line-by-line explanation of every statement, which Junction's own
 * ExplainPrincipalPolicy (server/explain.ts) answers; the IAM call keeps to the model.
 */
import type { XmlObject } from '../../protocol/query/xml.js'
import type { RequestContext } from '../policy/context.js'
import type { Principal } from '../principal.js'
import type { IamCallContext, IamOperation } from './context.js'
import { required } from './common.js'
import { InvalidInput, NoSuchEntity } from './errors.js'

export interface ContextEntry {
  ContextKeyName?: string
  ContextKeyValues?: string[]
}

const SOURCE_ARN = /^arn:[\w-]+:iam::(\d{12}):(user|role)\/(?:.*\/)?([\w+=,.@-]+)$/

/** The user or role a PolicySourceArn names (by its name), when it exists in this account. */
async function sourceOf(arn: string, ctx: SimulateContext) {
  const m = SOURCE_ARN.exec(arn)
  if (!m || m[1] !== ctx.principal.accountId) return undefined
  const [, accountId, type, name] = m as unknown as [string, string, 'user' | 'role', string]
  const record =
    type === 'user'
      ? await ctx.store.iam.users.get(accountId, name)
      : await ctx.store.iam.roles.get(accountId, name)
  return { accountId, type, name, record }
}

/**
 * The principal a PolicySourceArn names: a user, or a role (as a session of that role), with its
 * real ARN (path included), which is also what the call was authorized on.
 */
async function principalFor(arn: string, ctx: SimulateContext): Promise<Principal> {
  const source = await sourceOf(arn, ctx)
  if (!source)
    throw new InvalidInput(`PolicySourceArn must be a user or role of this account: ${arn}`)
  const { accountId, type, name, record } = source
  if (!record) throw new NoSuchEntity(`The ${type} with name ${name} cannot be found.`)
  return {
    arn: record.arn,
    accountId,
    accessKeyId: `simulate:${record.arn}`,
    isRoot: false,
    ...(type === 'user'
      ? { kind: 'user' as const, userName: name }
      : { kind: 'session' as const, roleName: name }),
  }
}

/** What a simulation needs: the caller, the store and the authorizer. */
export type SimulateContext = Pick<IamCallContext, 'store' | 'principal' | 'authorizer' | 'region'>

export interface SimulateInput {
  PolicySourceArn: string
  ActionNames: string[]
  ResourceArns?: string[]
  ContextEntries?: ContextEntry[]
}

/** How one action on one resource is decided, with Junction's line-by-line explanation. */
export interface Simulated {
  action: string
  resource: string
  decision: string
  matched: { SourcePolicyId: string; SourcePolicyType: string }[]
  missing: string[]
  explanation: string[]
}

/** The ARN a simulation for `arn` is authorized on: the user's or role's real one, if it exists. */
export async function simulationResource(arn: string, ctx: SimulateContext): Promise<string> {
  return (await sourceOf(arn, ctx))?.record?.arn ?? arn
}

/**
 * Decides every action on every resource for the user or role `PolicySourceArn` names; returns
 * the principal's real ARN (path included) and the results.
 */
export async function simulate(
  input: SimulateInput,
  ctx: SimulateContext,
): Promise<{ principalArn: string; results: Simulated[] }> {
  const principal = await principalFor(input.PolicySourceArn, ctx)
  const compiled = await ctx.authorizer.compiled(principal)
  const results: Simulated[] = []
  for (const action of input.ActionNames)
    for (const resource of input.ResourceArns ?? ['*']) {
      const context: RequestContext = ctx.authorizer.baseContext(principal, compiled, {
        region: ctx.region,
      })
      for (const e of input.ContextEntries ?? [])
        if (e.ContextKeyName) context.set(e.ContextKeyName, e.ContextKeyValues ?? [])
      const { evaluation } = ctx.authorizer.decide(
        principal,
        compiled,
        { action, resource, context },
        true,
      )
      const considered = compiled.policies.flatMap((p) => p.document.statements)
      results.push({
        action,
        resource,
        decision: evaluation.decision,
        matched: evaluation.deciding.map((t) => ({
          SourcePolicyId: t.policyId,
          // The model's PolicySourceType: a customer managed policy is `user-managed`.
          SourcePolicyType: t.policyId.startsWith('arn:')
            ? 'user-managed'
            : principal.kind === 'user'
              ? 'user'
              : 'role',
        })),
        missing: [
          ...new Set(
            considered.flatMap((s) => s.condition.map((c) => c.key)).filter((k) => !context.has(k)),
          ),
        ],
        explanation: evaluation.trace.map(
          (t) =>
            `${t.matched ? 'MATCHED' : 'no match'}: ${t.effect} statement ${t.sid ?? `#${t.index + 1}`} of ${t.policy}: ${t.reasons.join('; ')}`,
        ),
      })
    }
  return { principalArn: principal.arn, results }
}

export const simulateOperations: Record<string, IamOperation> = {
  SimulatePrincipalPolicy: {
    service: 'iam',
    // On the named user's or role's real ARN when it exists (else the ARN as passed).
    authorize: async (input, ctx) => ({
      action: 'iam:SimulatePrincipalPolicy',
      resource: await simulationResource(required(input, 'PolicySourceArn'), ctx),
    }),
    async handle(input, ctx) {
      const { results } = await simulate(
        {
          PolicySourceArn: required(input, 'PolicySourceArn'),
          ActionNames: (input['ActionNames'] as string[] | undefined) ?? [],
          ...(input['ResourceArns'] ? { ResourceArns: input['ResourceArns'] as string[] } : {}),
          ...(input['ContextEntries']
            ? { ContextEntries: input['ContextEntries'] as ContextEntry[] }
            : {}),
        },
        ctx,
      )
      // Exactly the model's members: Junction's explanation is its own ExplainPrincipalPolicy.
      const EvaluationResults: XmlObject[] = results.map((r) => ({
        EvalActionName: r.action,
        EvalResourceName: r.resource,
        EvalDecision: r.decision,
        MatchedStatements: r.matched,
        MissingContextValues: r.missing,
      }))
      return { EvaluationResults, IsTruncated: false }
    },
  },
}
