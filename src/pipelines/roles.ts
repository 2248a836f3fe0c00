/**
 * @module pipelines/roles
 * A pipeline acts as its role: the principal its actions are authorized as (a role session
 * Junction holds for it, named after the pipeline), so the role's policies decide what the
 * pipeline may do with a connection.
 */
import type { Principal } from '../iam/principal.js'

export function rolePrincipal(roleArn: string, pipelineName: string): Principal {
  const m = /^arn:(aws[\w-]*):iam::([0-9]{12}):role\/(?:.*\/)?([^/]+)$/.exec(roleArn)
  const partition = m?.[1] ?? 'aws'
  const accountId = m?.[2] ?? ''
  const roleName = m?.[3] ?? ''
  const session = `junction-${pipelineName}`.slice(0, 64)
  return {
    arn: `arn:${partition}:sts::${accountId}:assumed-role/${roleName}/${session}`,
    accountId,
    accessKeyId: `pipeline:${accountId}:${roleName}`,
    kind: 'session',
    isRoot: false,
    roleName,
  }
}
