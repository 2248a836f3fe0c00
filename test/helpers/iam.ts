/**
 * IAM and STS clients for the tests (the official AWS SDK), and shortcuts to give a user a policy.
 */
import {
  IAMClient,
  CreateUserCommand,
  CreateAccessKeyCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam'
import { STSClient } from '@aws-sdk/client-sts'
import type { Credentials } from './client.js'

export const iamClient = (url: string, credentials: Credentials) =>
  new IAMClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { ...credentials },
    maxAttempts: 1,
  })

export const stsClient = (url: string, credentials: Credentials) =>
  new STSClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { ...credentials },
    maxAttempts: 1,
  })

export const policy = (...statements: unknown[]) =>
  JSON.stringify({ Version: '2012-10-17', Statement: statements })

/** Creates a user with an access key and (optionally) an inline policy; returns its credentials. */
export async function userWithPolicy(
  iam: IAMClient,
  name: string,
  document?: string,
): Promise<Credentials> {
  await iam.send(new CreateUserCommand({ UserName: name }))
  if (document)
    await iam.send(
      new PutUserPolicyCommand({ UserName: name, PolicyName: 'test', PolicyDocument: document }),
    )
  const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: name }))
  return { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! }
}
