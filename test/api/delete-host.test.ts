import { describe, expect, it } from 'vitest'
import {
  CreateConnectionCommand,
  CreateHostCommand,
  DeleteConnectionCommand,
  DeleteHostCommand,
  GetHostCommand,
} from '@aws-sdk/client-codestar-connections'
import {
  authorizationCases,
  describeApi,
  expectAwsError,
  sdkError,
  uniqueName,
} from '../helpers/api.js'

describeApi('DeleteHost', (f) => {
  const create = async (vpc = false) =>
    (
      await f.sdk.send(
        new CreateHostCommand({
          Name: 'd',
          ProviderType: 'GitLabSelfManaged',
          ProviderEndpoint: 'https://gl.example.com',
          ...(vpc
            ? {
                VpcConfiguration: {
                  VpcId: 'vpc-12345678',
                  SubnetIds: ['subnet-12345678'],
                  SecurityGroupIds: ['sg-12345678'],
                },
              }
            : {}),
        }),
      )
    ).HostArn!

  describe('serialization', () => {
    it('returns SerializationException when HostArn is null-typed structure', async () => {
      expectAwsError(
        await f.raw.call({ operation: 'DeleteHost', body: { HostArn: {} } }),
        'SerializationException',
      )
    })
  })
  describe('validation', () => {
    it('returns ValidationException for a connection ARN passed as HostArn', async () => {
      const res = await f.raw.call({
        service: 'codestar-connections',
        operation: 'DeleteHost',
        body: { HostArn: 'arn:aws:codestar-connections:us-east-1:000000000000:connection/x' },
      })
      expectAwsError(res, 'ValidationException', 400, /hostArn/)
    })
  })
  describe('authorization', () => {
    let arn = ''
    authorizationCases(
      f,
      'DeleteHost',
      () => ({
        HostArn: arn || 'arn:aws:codestar-connections:us-east-1:000000000000:host/x-00000000',
      }),
      async () => {
        arn ||= await create()
        expect((await f.sdk.send(new GetHostCommand({ HostArn: arn }))).Name).toBe('d')
      },
    )
  })
  describe('functionality', () => {
    it('deletes a host without connections', async () => {
      const arn = await create()
      await f.sdk.send(new DeleteHostCommand({ HostArn: arn }))
      expect((await sdkError(f.sdk.send(new GetHostCommand({ HostArn: arn })))).name).toBe(
        'ResourceNotFoundException',
      )
      expect((await sdkError(f.sdk.send(new DeleteHostCommand({ HostArn: arn })))).name).toBe(
        'ResourceNotFoundException',
      )
    })
    it('returns ResourceUnavailableException while connections use the host, and deletes it after', async () => {
      const arn = await create()
      const conn = await f.sdk.send(
        new CreateConnectionCommand({ ConnectionName: uniqueName(), HostArn: arn }),
      )
      const err = await sdkError(f.sdk.send(new DeleteHostCommand({ HostArn: arn })))
      expect(err.name).toBe('ResourceUnavailableException')
      expect(err.message).toMatch(/still has connections/)
      await f.sdk.send(new DeleteConnectionCommand({ ConnectionArn: conn.ConnectionArn }))
      await f.sdk.send(new DeleteHostCommand({ HostArn: arn }))
    })
    it('returns ResourceUnavailableException while the host is VPC_CONFIG_INITIALIZING', async () => {
      const arn = await create(true)
      expect((await sdkError(f.sdk.send(new DeleteHostCommand({ HostArn: arn })))).name).toBe(
        'ResourceUnavailableException',
      )
    })
  })
})
