/**
 * CreatePipeline decides `iam:PassRole` and `PassConnection` before it says anything about the role
 * or the connection: a caller who may create pipelines but not pass a role (or a connection) gets
 * the same AccessDeniedException whether the role (connection) exists, does not exist, or does not
 * trust CodePipeline — she cannot use CreatePipeline to probe what exists in the account.
 */
import { CreatePipelineCommand } from '@aws-sdk/client-codepipeline'
import { CreateRoleCommand } from '@aws-sdk/client-iam'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ConnectFixture } from '../helpers/connect.js'
import { policy, userWithPolicy } from '../helpers/iam.js'
import {
  declaration,
  pipelineClient,
  startPipelineFixture,
  stopPipelineFixture,
} from '../helpers/pipelines.js'
import type { CodePipelineClient } from '@aws-sdk/client-codepipeline'

const ACCOUNT = '000000000000'

async function failure(p: Promise<unknown>): Promise<{ name: string; message: string }> {
  try {
    await p
  } catch (err) {
    return err as { name: string; message: string }
  }
  throw new Error('expected a rejection')
}

describe('CreatePipeline: PassRole and PassConnection before anything else', () => {
  let f: ConnectFixture
  let cp: CodePipelineClient
  let arn: string
  let role: string
  let untrusting: string
  beforeAll(async () => {
    ;({ f, cp, arn, role } = await startPipelineFixture('sqlite'))
    // A role that exists but does not trust CodePipeline.
    const r = await f.iam.send(
      new CreateRoleCommand({
        RoleName: 'not-for-pipelines',
        AssumeRolePolicyDocument: policy({
          Effect: 'Allow',
          Principal: { AWS: ACCOUNT },
          Action: 'sts:AssumeRole',
        }),
      }),
    )
    untrusting = r.Role!.Arn!
  })
  afterAll(() => stopPipelineFixture({ f, cp }))

  it('answers AccessDenied alike for an existing, a missing and an untrusting role', async () => {
    const mallory = await userWithPolicy(
      f.iam,
      'no-passrole',
      policy({
        Effect: 'Allow',
        Action: ['codepipeline:*', 'codestar-connections:*'],
        Resource: '*',
      }),
    )
    const client = pipelineClient(f.server.url, mallory)
    const answers = []
    for (const roleArn of [
      role,
      `arn:aws:iam::${ACCOUNT}:role/no-such-role`,
      `arn:aws:iam::${ACCOUNT}:role/wrong/path/${role.split('/').pop()!}`,
      untrusting,
    ]) {
      const err = await failure(
        client.send(
          new CreatePipelineCommand({
            pipeline: declaration({ name: 'probe', roleArn, connectionArn: arn }),
          }),
        ),
      )
      expect(err.name, roleArn).toBe('AccessDeniedException')
      expect(err.message).toMatch(/iam:PassRole/)
      expect(err.message).not.toMatch(/does not exist|trust policy/)
      answers.push(err.message.replace(roleArn, '<role>'))
    }
    expect(new Set(answers).size).toBe(1)
    client.destroy()
  })

  it('answers AccessDenied alike for an existing and a missing connection', async () => {
    const mallory = await userWithPolicy(
      f.iam,
      'no-passconnection',
      policy({ Effect: 'Allow', Action: ['codepipeline:*', 'iam:PassRole'], Resource: '*' }),
    )
    const client = pipelineClient(f.server.url, mallory)
    const missing = arn.replace(/[0-9a-f]{4}$/, '0000')
    expect(missing).not.toBe(arn)
    const answers = []
    for (const connectionArn of [arn, missing]) {
      const err = await failure(
        client.send(
          new CreatePipelineCommand({
            pipeline: declaration({ name: 'probe', roleArn: role, connectionArn }),
          }),
        ),
      )
      expect(err.name, connectionArn).toBe('AccessDeniedException')
      expect(err.message).toMatch(/PassConnection/)
      answers.push(err.message.replace(connectionArn, '<connection>'))
    }
    expect(new Set(answers).size).toBe(1)
    client.destroy()
  })
})
