import { describe, expect, it } from 'vitest'
import {
  CreateHostCommand,
  GetHostCommand,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-codestar-connections'
import { authorizationCases, describeApi, expectAwsError, sdkError } from '../helpers/api.js'

const vpc = {
  VpcId: 'vpc-12345678',
  SubnetIds: ['subnet-12345678'],
  SecurityGroupIds: ['sg-12345678'],
}
const ghes = {
  Name: 'My Host',
  ProviderType: 'GitHubEnterpriseServer' as const,
  ProviderEndpoint: 'https://ghes.example.com',
}

describeApi('CreateHost', (f) => {
  const hostCount = async () => (await f.server.store.hosts.list('000000000000', 0, 1000)).length

  describe('serialization', () => {
    it('returns SerializationException when SubnetIds is a string', async () => {
      const res = await f.raw.call({
        operation: 'CreateHost',
        body: { ...ghes, VpcConfiguration: { ...vpc, SubnetIds: 'subnet-12345678' } },
      })
      expectAwsError(res, 'SerializationException', 400, /vpcConfiguration\.subnetIds/)
    })
  })

  describe('validation', () => {
    it('returns ValidationException for missing Name, ProviderType and ProviderEndpoint', async () => {
      const res = await f.raw.call({ operation: 'CreateHost', body: {} })
      expectAwsError(res, 'ValidationException', 400, /^3 validation errors detected/)
    })
    it('returns ValidationException for a malformed VpcId, with its path', async () => {
      const res = await f.raw.call({
        operation: 'CreateHost',
        body: { ...ghes, VpcConfiguration: { ...vpc, VpcId: 'vpc-1' } },
      })
      expectAwsError(res, 'ValidationException', 400, /at 'vpcConfiguration\.vpcId'/)
    })
    it('names list members by position', async () => {
      const res = await f.raw.call({
        operation: 'CreateHost',
        body: { ...ghes, VpcConfiguration: { ...vpc, SubnetIds: ['subnet-12345678', 'bad'] } },
      })
      expectAwsError(res, 'ValidationException', 400, /at 'vpcConfiguration\.subnetIds\.2\.member'/)
    })
    it('returns ValidationException for a cloud provider type', async () => {
      const err = await sdkError(
        f.sdk.send(new CreateHostCommand({ ...ghes, ProviderType: 'GitHub' })),
      )
      expect(err.name).toBe('ValidationException')
    })
    it('returns ValidationException for an endpoint that is not a URL', async () => {
      const err = await sdkError(
        f.sdk.send(new CreateHostCommand({ ...ghes, ProviderEndpoint: 'ghes.example.com' })),
      )
      expect(err.name).toBe('ValidationException')
    })
  })

  describe('authorization', () => {
    let before: number | undefined
    authorizationCases(
      f,
      'CreateHost',
      () => ghes,
      async () => {
        before ??= await hostCount()
        expect(await hostCount()).toBe(before)
      },
    )
  })

  describe('functionality', () => {
    it('creates a PENDING host with an ARN of the form host/<name>-<8 hex>', async () => {
      const out = await f.sdk.send(
        new CreateHostCommand({ ...ghes, Tags: [{ Key: 'env', Value: 'prod' }] }),
      )
      expect(out.HostArn).toMatch(
        /^arn:aws:codestar-connections:us-east-1:000000000000:host\/My-Host-[0-9a-f]{8}$/,
      )
      expect(out.Tags).toEqual([{ Key: 'env', Value: 'prod' }])
      const got = await f.sdk.send(new GetHostCommand({ HostArn: out.HostArn }))
      expect(got).toMatchObject({
        Name: 'My Host',
        ProviderType: 'GitHubEnterpriseServer',
        ProviderEndpoint: 'https://ghes.example.com',
        Status: 'PENDING',
      })
      expect(
        (await f.sdk.send(new ListTagsForResourceCommand({ ResourceArn: out.HostArn }))).Tags,
      ).toEqual([{ Key: 'env', Value: 'prod' }])
    })
    it('passes through VPC_CONFIG_INITIALIZING to PENDING within seconds when a VPC is given', async () => {
      const out = await f.sdk.send(
        new CreateHostCommand({ ...ghes, VpcConfiguration: { ...vpc, TlsCertificate: 'CERT' } }),
      )
      const first = await f.sdk.send(new GetHostCommand({ HostArn: out.HostArn }))
      expect(first.Status).toBe('VPC_CONFIG_INITIALIZING')
      expect(first.VpcConfiguration).toEqual({ ...vpc, TlsCertificate: 'CERT' })
      let status = first.Status
      const deadline = Date.now() + 5000
      while (status !== 'PENDING' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200))
        status = (await f.sdk.send(new GetHostCommand({ HostArn: out.HostArn }))).Status
      }
      expect(status).toBe('PENDING')
    })
    it('creates a codeconnections host through that endpoint', async () => {
      const res = await f.raw.call({
        service: 'codeconnections',
        operation: 'CreateHost',
        body: { ...ghes, ProviderType: 'GitLabSelfManaged' },
      })
      expect(res.json['HostArn']).toMatch(/^arn:aws:codeconnections:us-east-1:000000000000:host\//)
    })
  })
})

describeApi(
  'CreateHost quota',
  (f) => {
    it('returns LimitExceededException past --host-quota', async () => {
      await f.sdk.send(new CreateHostCommand(ghes))
      await f.sdk.send(new CreateHostCommand(ghes))
      const err = await sdkError(f.sdk.send(new CreateHostCommand(ghes)))
      expect(err.name).toBe('LimitExceededException')
    })
  },
  { 'host-quota': '2' },
)
