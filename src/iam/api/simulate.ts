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

const SOURCE_ARN = /^arn:[\w-]+:iam::(\d{12}):(user|role)\/(?:.*\/)?([\w+=,.@-]+)$/

/** The user or role a PolicySourceArn names (by its name), when it exists in this account. */
async function sourceOf(arn: string, ctx: IamCallContext) {
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
async function principalFor(arn: string, ctx: IamCallContext): Promise<Principal> {
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

export const simulateOperations: Record<string, IamOperation> = {
  SimulatePrincipalPolicy: {
    service: 'iam',
    // On the named user's or role's real ARN when it exists (else the ARN as passed).
    authorize: async (input, ctx) => {
      const arn = required(input, 'PolicySourceArn')
      return {
        action: 'iam:SimulatePrincipalPolicy',
        resource: (await sourceOf(arn, ctx))?.record?.arn ?? arn,
      }
    },
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
      // Junction's addition: whom the results are about (the real ARN, path included).
      return { EvaluationResults: results, IsTruncated: false, JunctionPrincipalArn: principal.arn }
    },
  },
}
