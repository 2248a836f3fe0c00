import { beforeAll, describe, expect, it } from 'vitest'
import {
  CreateConnectionCommand,
  CreateHostCommand,
  ListConnectionsCommand,
  type Connection,
} from '@aws-sdk/client-codestar-connections'
import { authorizationCases, describeApi, expectAwsError, sdkError } from '../helpers/api.js'

describeApi('ListConnections', (f) => {
  let hostArn = ''
  const created: string[] = []

  beforeAll(async () => {
    hostArn = (
      await f.sdk.send(
        new CreateHostCommand({
          Name: 'h',
          ProviderType: 'GitLabSelfManaged',
          ProviderEndpoint: 'https://gl.example.com',
        }),
      )
    ).HostArn!
    for (let i = 0; i < 25; i++) {
      const providerType = i % 5 === 0 ? 'Bitbucket' : 'GitHub'
      created.push(
        (
          await f.sdk.send(
            new CreateConnectionCommand({
              ConnectionName: `c${String(i).padStart(2, '0')}`,
              ProviderType: providerType,
            }),
          )
        ).ConnectionArn!,
      )
    }
    for (let i = 0; i < 3; i++)
      created.push(
        (
          await f.sdk.send(
            new CreateConnectionCommand({ ConnectionName: `h${i}`, HostArn: hostArn }),
          )
        ).ConnectionArn!,
      )
  })

  const listAll = async (input: Record<string, unknown>) => {
    const all: Connection[] = []
    let token: string | undefined
    let pages = 0
    do {
      const out = await f.sdk.send(new ListConnectionsCommand({ ...input, NextToken: token }))
      all.push(...(out.Connections ?? []))
      token = out.NextToken
      pages++
    } while (token)
    return { all, pages }
  }

  describe('serialization', () => {
    it('returns SerializationException when MaxResults is a string', async () => {
      const res = await f.raw.call({ operation: 'ListConnections', body: { MaxResults: '10' } })
      expectAwsError(res, 'SerializationException')
    })
    it('returns SerializationException when MaxResults is fractional', async () => {
      const res = await f.raw.call({ operation: 'ListConnections', body: { MaxResults: 1.5 } })
      expectAwsError(res, 'SerializationException')
    })
  })

  describe('validation', () => {
    it('returns ValidationException for MaxResults above 100', async () => {
      const res = await f.raw.call({ operation: 'ListConnections', body: { MaxResults: 101 } })
      expectAwsError(
        res,
        'ValidationException',
        400,
        "Value '101' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100",
      )
    })
    it('returns ValidationException for a negative MaxResults', async () => {
      const res = await f.raw.call({ operation: 'ListConnections', body: { MaxResults: -1 } })
      expectAwsError(res, 'ValidationException', 400, /greater than or equal to 0/)
    })
    it('returns ValidationException for an unknown ProviderTypeFilter', async () => {
      const res = await f.raw.call({
        operation: 'ListConnections',
        body: { ProviderTypeFilter: 'CodeCommit' },
      })
      expectAwsError(res, 'ValidationException', 400, /providerTypeFilter/)
    })
    it('returns ValidationException for a forged NextToken', async () => {
      const err = await sdkError(
        f.sdk.send(new ListConnectionsCommand({ NextToken: 'eyJzIjo1fQ.forged' })),
      )
      expect(err.name).toBe('ValidationException')
    })
    it('returns ValidationException for a token altered to skip ahead', async () => {
      const first = await f.sdk.send(new ListConnectionsCommand({ MaxResults: 2 }))
      const [payload, mac] = first.NextToken!.split('.')
      const cursor = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as { s: number }
      cursor.s += 10
      const forged = `${Buffer.from(JSON.stringify(cursor)).toString('base64url')}.${mac}`
      expect(
        (await sdkError(f.sdk.send(new ListConnectionsCommand({ NextToken: forged })))).name,
      ).toBe('ValidationException')
    })
    it('returns ValidationException for a token issued for other filters', async () => {
      const first = await f.sdk.send(
        new ListConnectionsCommand({ MaxResults: 2, ProviderTypeFilter: 'GitHub' }),
      )
      const err = await sdkError(
        f.sdk.send(
          new ListConnectionsCommand({
            NextToken: first.NextToken,
            ProviderTypeFilter: 'Bitbucket',
          }),
        ),
      )
      expect(err.name).toBe('ValidationException')
    })
    it('returns ValidationException for a ListHosts token', async () => {
      await f.sdk.send(
        new CreateHostCommand({
          Name: 'h2',
          ProviderType: 'GitLabSelfManaged',
          ProviderEndpoint: 'https://gl2.example.com',
        }),
      )
      const hosts = await f.raw.call({ operation: 'ListHosts', body: { MaxResults: 1 } })
      const res = await f.raw.call({
        operation: 'ListConnections',
        body: { NextToken: hosts.json['NextToken'] },
      })
      expectAwsError(res, 'ValidationException')
    })
  })

  describe('authorization', () => {
    authorizationCases(f, 'ListConnections', () => ({}))
  })

  describe('functionality', () => {
    it('lists every connection in creation order, 100 per page by default', async () => {
      const out = await f.sdk.send(new ListConnectionsCommand({}))
      expect(out.Connections?.map((c) => c.ConnectionArn)).toEqual(created)
      expect(out.NextToken).toBeUndefined()
      const zero = await f.sdk.send(new ListConnectionsCommand({ MaxResults: 0 }))
      expect(zero.Connections).toHaveLength(created.length)
    })
    it('pages with MaxResults and ends without a NextToken', async () => {
      const { all, pages } = await listAll({ MaxResults: 4 })
      expect(all.map((c) => c.ConnectionArn)).toEqual(created)
      expect(pages).toBe(Math.ceil(created.length / 4))
    })
    it('omits NextToken when the last page is exactly full', async () => {
      const out = await f.sdk.send(new ListConnectionsCommand({ MaxResults: created.length }))
      expect(out.Connections).toHaveLength(created.length)
      expect(out.NextToken).toBeUndefined()
    })
    it('filters by ProviderTypeFilter across pages', async () => {
      const { all } = await listAll({ ProviderTypeFilter: 'Bitbucket', MaxResults: 2 })
      expect(all).toHaveLength(5)
      expect(all.every((c) => c.ProviderType === 'Bitbucket')).toBe(true)
    })
    it('filters by HostArnFilter, and by both filters together', async () => {
      const { all } = await listAll({ HostArnFilter: hostArn })
      expect(all.map((c) => c.ConnectionName)).toEqual(['h0', 'h1', 'h2'])
      expect(all.every((c) => c.HostArn === hostArn)).toBe(true)
      const both = await listAll({ HostArnFilter: hostArn, ProviderTypeFilter: 'GitHub' })
      expect(both.all).toHaveLength(0)
    })
    it('returns ResourceNotFoundException for an unknown host in HostArnFilter', async () => {
      const err = await sdkError(
        f.sdk.send(
          new ListConnectionsCommand({
            HostArnFilter: 'arn:aws:codestar-connections:us-east-1:000000000000:host/gone-00000000',
          }),
        ),
      )
      expect(err.name).toBe('ResourceNotFoundException')
    })
    it('lists connections of both prefixes from either endpoint', async () => {
      const res = await f.raw.call({
        service: 'codeconnections',
        operation: 'CreateConnection',
        body: { ConnectionName: 'newprefix', ProviderType: 'GitHub' },
      })
      const newArn = res.json['ConnectionArn'] as string
      created.push(newArn)
      const viaOld = await listAll({})
      expect(viaOld.all.map((c) => c.ConnectionArn)).toContain(newArn)
      const viaNew = await f.raw.call({
        service: 'codeconnections',
        operation: 'ListConnections',
        body: {},
      })
      const arns = (viaNew.json['Connections'] as { ConnectionArn: string }[]).map(
        (c) => c.ConnectionArn,
      )
      expect(arns).toContain(created[0])
      expect(arns).toContain(newArn)
    })
    it('continues correctly when connections are deleted between pages', async () => {
      const first = await f.sdk.send(new ListConnectionsCommand({ MaxResults: 3 }))
      const res = await f.raw.call({
        operation: 'DeleteConnection',
        body: { ConnectionArn: created[3] },
      })
      expect(res.status).toBe(200)
      const second = await f.sdk.send(
        new ListConnectionsCommand({ MaxResults: 3, NextToken: first.NextToken }),
      )
      expect(second.Connections?.map((c) => c.ConnectionArn)).toEqual([
        created[4],
        created[5],
        created[6],
      ])
    })
  })
})
