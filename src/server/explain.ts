/**
 * @module server/explain
 * Junction's own `ExplainPrincipalPolicy` (beside the other operations of server/extension.ts):
 * what IAM's SimulatePrincipalPolicy decides for a user or role, with the principal's real ARN and
 * a line-by-line explanation of every statement (`junction iam explain` prints it). IAM's own
 * call answers only what its model has; the explanation lives here. Authorized as
 * `iam:SimulatePrincipalPolicy` on the user's or role's real ARN, as that call is.
 */
import type { Caller } from '../connect/service.js'
import { simulate, simulationResource, type ContextEntry } from '../iam/api/simulate.js'
import type { ExtensionDeps, ExtensionOperation } from './extension.js'

export const explainOperations: Record<string, ExtensionOperation> = {
  ExplainPrincipalPolicy: {
    fields: {
      PolicySourceArn: { type: 'string', required: true, max: 2048 },
      ActionNames: { type: 'strings', required: true, maxItems: 100, max: 128 },
      ResourceArns: { type: 'strings', maxItems: 100, max: 2048 },
      Context: { type: 'stringLists', maxItems: 100, max: 1024 },
    },
    handle: async (caller: Caller, input: Record<string, unknown>, deps: ExtensionDeps) => {
      const p = caller.principal
      const ctx = {
        store: deps.store,
        principal: p,
        authorizer: deps.authorizer,
        region: deps.region,
      }
      const source = input['PolicySourceArn'] as string
      if (p.kind !== 'root') {
        const compiled = await deps.authorizer.compiled(p)
        const context = deps.authorizer.baseContext(p, compiled, {
          sourceIp: caller.sourceIp,
          region: deps.region,
        })
        deps.authorizer.enforce(p, compiled, {
          action: 'iam:SimulatePrincipalPolicy',
          resource: await simulationResource(source, ctx),
          context,
        })
      }
      const entries: ContextEntry[] = Object.entries(
        (input['Context'] as Record<string, string[]> | undefined) ?? {},
      ).map(([ContextKeyName, ContextKeyValues]) => ({ ContextKeyName, ContextKeyValues }))
      const { principalArn, results } = await simulate(
        {
          PolicySourceArn: source,
          ActionNames: input['ActionNames'] as string[],
          ...(input['ResourceArns'] ? { ResourceArns: input['ResourceArns'] as string[] } : {}),
          ContextEntries: entries,
        },
        ctx,
      )
      return {
        PrincipalArn: principalArn,
        EvaluationResults: results.map((r) => ({
          EvalActionName: r.action,
          EvalResourceName: r.resource,
          EvalDecision: r.decision,
          MatchedStatements: r.matched,
          MissingContextValues: r.missing,
          Explanation: r.explanation,
        })),
      }
    },
  },
}
