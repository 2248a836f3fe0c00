import { describe, expect, it } from 'vitest'
import {
  CreateHostCommand,
  GetHostCommand,
  UpdateHostCommand,
} from '@aws-sdk/client-codestar-connections'
import { authorizationCases, describeApi, expectAwsError, sdkError } from '../helpers/api.js'

const vpc = {
  VpcId: 'vpc-12345678',
  SubnetIds: ['subnet-12345678'],
  SecurityGroupIds: ['sg-12345678'],
}

describeApi('UpdateHost', (f) => {
  const create = async (withVpc = false) =>
    (
      await f.sdk.send(
        new CreateHostCommand({
          Name: 'u',
          ProviderType: 'GitHubEnterpriseServer',
          ProviderEndpoint: 'https://old.example.com',
          ...(withVpc ? { VpcConfiguration: vpc } : {}),
        }),
      )
    ).HostArn!

  describe('serialization', () => {
    it('returns SerializationException when VpcConfiguration is a list', async () => {
      expectAwsError(
        await f.raw.call({
          operation: 'UpdateHost',
          body: { HostArn: await create(), VpcConfiguration: [] },
        }),
        'SerializationException',
      )
    })
  })
  describe('validation', () => {
    it('returns ValidationException for an endpoint over 512 characters', async () => {
      const res = await f.raw.call({
        operation: 'UpdateHost',
        body: { HostArn: await create(), ProviderEndpoint: `https://${'a'.repeat(510)}` },
      })
      expectAwsError(res, 'ValidationException', 400, /providerEndpoint/)
    })
    it('returns ValidationException when nothing would change', async () => {
      expect(
        (await sdkError(f.sdk.send(new UpdateHostCommand({ HostArn: await create() })))).name,
      ).toBe('ValidationException')
    })
  })
  describe('authorization', () => {
    let arn = ''
    authorizationCases(
      f,
      'UpdateHost',
      () => ({
        HostArn: arn || 'arn:aws:codestar-connections:us-east-1:000000000000:host/x-00000000',
        ProviderEndpoint: 'https://attacker.example.com',
      }),
      async () => {
        arn ||= await create()
        expect((await f.sdk.send(new GetHostCommand({ HostArn: arn }))).ProviderEndpoint).toBe(
          'https://old.example.com',
        )
      },
    )
  })
  describe('functionality', () => {
    it('changes the endpoint and answers {}', async () => {
      const arn = await create()
      const res = await f.raw.call({
        operation: 'UpdateHost',
        body: { HostArn: arn, ProviderEndpoint: 'https://new.example.com' },
      })
      expect(res.status).toBe(200)
      expect(res.json).toEqual({})
      expect((await f.sdk.send(new GetHostCommand({ HostArn: arn }))).ProviderEndpoint).toBe(
        'https://new.example.com',
      )
    })
    it('returns ConflictException while the host is VPC_CONFIG_INITIALIZING', async () => {
      const arn = await create(true)
      const err = await sdkError(
        f.sdk.send(
          new UpdateHostCommand({ HostArn: arn, ProviderEndpoint: 'https://x.example.com' }),
        ),
      )
      expect(err.name).toBe('ConflictException')
    })
    it('sets a new VPC configuration, which initializes again', async () => {
      const arn = await create()
      await f.sdk.send(
        new UpdateHostCommand({
          HostArn: arn,
          VpcConfiguration: { ...vpc, VpcId: 'vpc-87654321' },
        }),
      )
      const got = await f.sdk.send(new GetHostCommand({ HostArn: arn }))
      expect(got.Status).toBe('VPC_CONFIG_INITIALIZING')
      expect(got.VpcConfiguration?.VpcId).toBe('vpc-87654321')
    })
    it('returns ResourceNotFoundException for an unknown host', async () => {
      const err = await sdkError(
        f.sdk.send(
          new UpdateHostCommand({
            HostArn: 'arn:aws:codestar-connections:us-east-1:000000000000:host/x-00000000',
            ProviderEndpoint: 'https://x.example.com',
          }),
        ),
      )
      expect(err.name).toBe('ResourceNotFoundException')
    })
  })
})
