import { beforeAll, describe, expect, it } from 'vitest'
import {
  CreateHostCommand,
  ListHostsCommand,
  type Host,
} from '@aws-sdk/client-codestar-connections'
import { authorizationCases, describeApi, expectAwsError, sdkError } from '../helpers/api.js'

describeApi('ListHosts', (f) => {
  const arns: string[] = []
  beforeAll(async () => {
    for (let i = 0; i < 7; i++)
      arns.push(
        (
          await f.sdk.send(
            new CreateHostCommand({
              Name: `h${i}`,
              ProviderType: 'GitHubEnterpriseServer',
              ProviderEndpoint: `https://h${i}.example.com`,
            }),
          )
        ).HostArn!,
      )
  })
  describe('serialization', () => {
    it('returns SerializationException when NextToken is a number', async () => {
      expectAwsError(
        await f.raw.call({ operation: 'ListHosts', body: { NextToken: 5 } }),
        'SerializationException',
      )
    })
  })
  describe('validation', () => {
    it('returns ValidationException for MaxResults 1000', async () => {
      expectAwsError(
        await f.raw.call({ operation: 'ListHosts', body: { MaxResults: 1000 } }),
        'ValidationException',
        400,
        /maxResults/,
      )
    })
    it('returns ValidationException for a forged NextToken', async () => {
      expect(
        (await sdkError(f.sdk.send(new ListHostsCommand({ NextToken: 'abc.def' })))).name,
      ).toBe('ValidationException')
    })
  })
  describe('authorization', () => {
    authorizationCases(f, 'ListHosts', () => ({}))
  })
  describe('functionality', () => {
    it('pages through every host with HostArn included', async () => {
      const all: Host[] = []
      let token: string | undefined
      do {
        const out = await f.sdk.send(new ListHostsCommand({ MaxResults: 3, NextToken: token }))
        expect(out.Hosts!.length).toBeLessThanOrEqual(3)
        all.push(...out.Hosts!)
        token = out.NextToken
      } while (token)
      expect(all.map((h) => h.HostArn)).toEqual(arns)
      expect(all[0]).toEqual({
        Name: 'h0',
        HostArn: arns[0],
        ProviderType: 'GitHubEnterpriseServer',
        ProviderEndpoint: 'https://h0.example.com',
        Status: 'PENDING',
      })
    })
  })
})
