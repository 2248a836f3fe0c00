/**
 * A member set to JSON `null` is absent, as AWS reads it: for every operation Junction serves on the
 * connections endpoints, each member of its input (required or optional, at the top level and
 * inside nested structures) set to `null` on top of a valid call gets the same answer as the call
 * without it — never a 5xx, never a `null` echoed as a value or stored. (An outside review found
 * `ListConnections {"NextToken":null}` and `UpdateHost {"ProviderEndpoint":null}` answering 500.)
 */
import { expect, it } from 'vitest'
import { codeconnectionsValidation } from '../../src/generated/validation-table.js'
import { describeApi, uniqueName } from '../helpers/api.js'

type Body = Record<string, unknown>

describeApi('null members read as absent', (f) => {
  /** A valid call of each operation Junction implements, made fresh (resources it needs exist). */
  const valid: Record<string, () => Promise<Body>> = {
    CreateConnection: async () => ({ ConnectionName: uniqueName(), ProviderType: 'Bitbucket' }),
    GetConnection: async () => ({ ConnectionArn: await connection() }),
    ListConnections: async () => ({ ProviderTypeFilter: 'Bitbucket', MaxResults: 5 }),
    DeleteConnection: async () => ({ ConnectionArn: await connection() }),
    CreateHost: async () => ({
      Name: uniqueName(),
      ProviderType: 'GitHubEnterpriseServer',
      ProviderEndpoint: 'https://ghe.example.com',
      VpcConfiguration: {
        VpcId: 'vpc-12345678',
        SubnetIds: ['subnet-12345678'],
        SecurityGroupIds: ['sg-12345678'],
      },
    }),
    GetHost: async () => ({ HostArn: await host() }),
    ListHosts: async () => ({ MaxResults: 5 }),
    UpdateHost: async () => ({
      HostArn: await host(),
      ProviderEndpoint: 'https://ghe2.example.com',
    }),
    DeleteHost: async () => ({ HostArn: await host() }),
    TagResource: async () => ({
      ResourceArn: await connection(),
      Tags: [{ Key: 'team', Value: 'web' }],
    }),
    UntagResource: async () => ({ ResourceArn: await connection(), TagKeys: ['team'] }),
    ListTagsForResource: async () => ({ ResourceArn: await connection() }),
  }

  async function connection(): Promise<string> {
    const r = await f.raw.call({
      operation: 'CreateConnection',
      body: { ConnectionName: uniqueName(), ProviderType: 'Bitbucket' },
    })
    return r.json['ConnectionArn'] as string
  }
  async function host(): Promise<string> {
    const r = await f.raw.call({
      operation: 'CreateHost',
      body: {
        Name: uniqueName(),
        ProviderType: 'GitHubEnterpriseServer',
        ProviderEndpoint: 'https://ghe.example.com',
      },
    })
    return r.json['HostArn'] as string
  }

  const { operations, shapes } = codeconnectionsValidation
  const membersOf = (shape: string): Record<string, string> => {
    const s = shapes[shape] as { members?: Record<string, string> } | undefined
    return s?.members ?? {}
  }

  it('answers each member set to null as if it were absent, for every operation', async () => {
    let cases = 0
    for (const [op, make] of Object.entries(valid)) {
      const input = operations[op]!
      for (const member of Object.keys(membersOf(input))) {
        const base = await make()
        const withNull = { ...base, [member]: null }
        const a = await f.raw.call({ operation: op, body: withNull })
        expect(a.status, `${op} ${member}: ${a.text}`).toBeLessThan(500)
        // An answer never echoes the null as a value (AWS's "Member must not be null" is fine).
        if (a.status === 200) expect(a.text, `${op} ${member}`).not.toMatch(/\bnull\b/)
        // The same call without the member (fresh resources) gets the same kind of answer.
        const fresh = await make()
        const { [member]: _gone, ...freshWithout } = fresh
        const b = await f.raw.call({ operation: op, body: freshWithout })
        expect(
          { status: a.status, type: a.json.__type },
          `${op} ${member}: null answered ${a.text}, absent ${b.text}`,
        ).toEqual({ status: b.status, type: b.json.__type })
        cases++
      }
    }
    expect(cases).toBeGreaterThan(25)
  })

  it('reads null inside nested structures as absent too', async () => {
    const r = await f.raw.call({
      operation: 'CreateHost',
      body: {
        Name: uniqueName(),
        ProviderType: 'GitHubEnterpriseServer',
        ProviderEndpoint: 'https://ghe.example.com',
        VpcConfiguration: {
          VpcId: 'vpc-12345678',
          SubnetIds: ['subnet-12345678'],
          SecurityGroupIds: ['sg-12345678'],
          TlsCertificate: null,
        },
      },
    })
    expect(r.status, r.text).toBe(200)
    const got = await f.raw.call({ operation: 'GetHost', body: { HostArn: r.json['HostArn'] } })
    expect(got.status).toBe(200)
    expect(got.text).not.toMatch(/\bnull\b/)
    expect(JSON.stringify(got.json)).not.toContain('TlsCertificate')
  })
})
