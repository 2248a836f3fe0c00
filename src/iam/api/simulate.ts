/**
 * @module iam/api/simulate
 * SimulatePrincipalPolicy: how the evaluator decides actions on resources for a user or role,
 * with the statements that matched, the context keys the policies read but the request did not
 * give, and (Junction's addition) a line-by-line explanation of every statement.
 */
import type { XmlObject } from '../../protocol/query/xml.js'
import type { RequestContext } from '../policy/context.js'
import type { Principal } from '../principal.js'
import type { IamCallContext, IamOperation } from './context.js'
import { required } from './common.js'
import { InvalidInput, NoSuchEntity } from './errors.js'

interface ContextEntry {
  ContextKeyName?: string
  ContextKeyValues?: string[]
}

/** The principal a PolicySourceArn names (a user or a role, as a session of that role). */
async function principalFor(arn: string, ctx: IamCallContext): Promise<Principal> {
  const m = /^arn:[\w-]+:iam::(\d{12}):(user|role)\/(?:.*\/)?([\w+=,.@-]+)$/.exec(arn)
  if (!m || m[1] !== ctx.principal.accountId)
    throw new InvalidInput(`PolicySourceArn must be a user or role of this account: ${arn}`)
  const [, accountId, type, name] = m as unknown as [string, string, 'user' | 'role', string]
  if (type === 'user') {
    if (!(await ctx.store.iam.users.get(accountId, name)))
      throw new NoSuchEntity(`The user with name ${name} cannot be found.`)
    return {
      arn,
      accountId,
      accessKeyId: `simulate:${arn}`,
      kind: 'user',
      isRoot: false,
      userName: name,
    }
  }
  if (!(await ctx.store.iam.roles.get(accountId, name)))
    throw new NoSuchEntity(`The role with name ${name} cannot be found.`)
  return {
    arn,
    accountId,
    accessKeyId: `simulate:${arn}`,
    kind: 'session',
    isRoot: false,
    roleName: name,
  }
}

export const simulateOperations: Record<string, IamOperation> = {
  SimulatePrincipalPolicy: {
    service: 'iam',
    authorize: (input) => ({
      action: 'iam:SimulatePrincipalPolicy',
      resource: required(input, 'PolicySourceArn'),
    }),
    async handle(input, ctx) {
      const principal = await principalFor(required(input, 'PolicySourceArn'), ctx)
      const compiled = await ctx.authorizer.compiled(principal)
      const actions = (input['ActionNames'] as string[] | undefined) ?? []
      const resources = (input['ResourceArns'] as string[] | undefined) ?? ['*']
      const results: XmlObject[] = []
      for (const action of actions)
        for (const resource of resources) {
          const context: RequestContext = ctx.authorizer.baseContext(principal, compiled, {
            region: ctx.region,
          })
          for (const e of (input['ContextEntries'] as ContextEntry[] | undefined) ?? [])
            if (e.ContextKeyName) context.set(e.ContextKeyName, e.ContextKeyValues ?? [])
          const { evaluation } = ctx.authorizer.decide(
            principal,
            compiled,
            { action, resource, context },
            true,
          )
          const considered = compiled.policies.flatMap((p) => p.document.statements)
          const missing = [
            ...new Set(
              considered
                .flatMap((s) => s.condition.map((c) => c.key))
                .filter((k) => !context.has(k)),
            ),
          ]
          results.push({
            EvalActionName: action,
            EvalResourceName: resource,
            EvalDecision: evaluation.decision,
            MatchedStatements: evaluation.deciding.map((t) => ({
              SourcePolicyId: t.policyId,
              SourcePolicyType: t.policyId.startsWith('arn:')
                ? 'IAM Policy'
                : principal.kind === 'user'
                  ? 'user'
                  : 'role',
            })),
            MissingContextValues: missing,
            // Junction's explanation; SDKs ignore elements they do not know.
            JunctionExplanation: evaluation.trace.map(
              (t) =>
                `${t.matched ? 'MATCHED' : 'no match'}: ${t.effect} statement ${t.sid ?? `#${t.index + 1}`} of ${t.policy}: ${t.reasons.join('; ')}`,
            ),
          })
        }
      return { EvaluationResults: results, IsTruncated: false }
    },
  },
}
