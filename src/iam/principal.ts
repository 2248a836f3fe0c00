/**
 * @module iam/principal
 * Who made a request. Today the account root is the only principal; IAM users and roles come with
 * the IAM roadmap step and plug in here.
 */
export interface Principal {
  arn: string
  accountId: string
  accessKeyId: string
  isRoot: boolean
}

export const rootArn = (partition: string, accountId: string): string =>
  `arn:${partition}:iam::${accountId}:root`
