/**
 * IAM and STS clients for the tests (the official AWS SDK), and shortcuts to give a user a policy.
 */
import {
  IAMClient,
  CreateUserCommand,
  CreateAccessKeyCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam'
import {
  GetCallerIdentityCommand,
  STSClient,
  type AssumeRoleCommandOutput,
} from '@aws-sdk/client-sts'
import { expect } from 'vitest'
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

/**
 * What an allowed AssumeRole must answer: a session of `role` named `session` (its ARN and id, a
 * temporary key with its secret, token and a future expiry), whose credentials are that session.
 */
export async function expectRoleSession(
  url: string,
  out: AssumeRoleCommandOutput,
  role: string,
  session: string,
): Promise<void> {
  const arn = `arn:aws:sts::000000000000:assumed-role/${role}/${session}`
  expect(out.AssumedRoleUser?.Arn).toBe(arn)
  expect(out.AssumedRoleUser?.AssumedRoleId).toMatch(new RegExp(`^AROA[A-Z2-7]{17}:${session}$`))
  const c = out.Credentials
  expect(c?.AccessKeyId).toMatch(/^JSIA[A-Z2-7]{16}$/)
  expect(c?.SecretAccessKey).toMatch(/^\S{40}$/)
  expect(c?.SessionToken?.length).toBeGreaterThan(0)
  expect(c!.Expiration!.getTime()).toBeGreaterThan(Date.now())
  const sts = stsClient(url, {
    accessKeyId: c!.AccessKeyId!,
    secretAccessKey: c!.SecretAccessKey!,
    sessionToken: c!.SessionToken!,
  })
  expect((await sts.send(new GetCallerIdentityCommand({}))).Arn).toBe(arn)
  sts.destroy()
}
