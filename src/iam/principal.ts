/**
 * @module iam/principal
 * Who made a request: the account root, an IAM user, or a role session (temporary credentials
 * from STS AssumeRole).
 */
export interface Principal {
  /** `arn:aws:iam::…:root`, `arn:aws:iam::…:user/…` or `arn:aws:sts::…:assumed-role/<role>/<session>`. */
  arn: string
  accountId: string
  accessKeyId: string
  kind: 'root' | 'user' | 'session'
  isRoot: boolean
  /** The IAM user (kind `user`). */
  userName?: string
  /** The role (kind `session`). */
  roleName?: string
  /** The session policy passed to AssumeRole (kind `session`), as JSON text. */
  sessionPolicy?: string
}

export const rootArn = (partition: string, accountId: string): string =>
  `arn:${partition}:iam::${accountId}:root`

/** `arn:aws:iam::<account>:user<path><name>` (and the same for roles and policies). */
export const iamArn = (
  partition: string,
  accountId: string,
  type: 'user' | 'role' | 'policy',
  path: string,
  name: string,
): string => `arn:${partition}:iam::${accountId}:${type}${path}${name}`
