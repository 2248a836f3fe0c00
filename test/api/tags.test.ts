import { beforeAll, describe, expect, it } from 'vitest'
import {
  CreateConnectionCommand,
  CreateHostCommand,
  ListTagsForResourceCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-codestar-connections'
import {
  authorizationCases,
  describeApi,
  expectAwsError,
  sdkError,
  uniqueName,
} from '../helpers/api.js'

const missing =
  'arn:aws:codestar-connections:us-east-1:000000000000:connection/00000000-0000-4000-8000-000000000000'

describeApi('TagResource, UntagResource, ListTagsForResource', (f) => {
  let conn = ''
  let host = ''
  const tagsOf = async (arn: string) =>
    (await f.sdk.send(new ListTagsForResourceCommand({ ResourceArn: arn }))).Tags
  beforeAll(async () => {
    conn = (
      await f.sdk.send(
        new CreateConnectionCommand({ ConnectionName: uniqueName(), ProviderType: 'GitHub' }),
      )
    ).ConnectionArn!
    host = (
      await f.sdk.send(
        new CreateHostCommand({
          Name: 't',
          ProviderType: 'GitHubEnterpriseServer',
          ProviderEndpoint: 'https://t.example.com',
        }),
      )
    ).HostArn!
  })

  describe('serialization', () => {
    it('returns SerializationException when a tag Value is a number', async () => {
      expectAwsError(
        await f.raw.call({
          operation: 'TagResource',
          body: { ResourceArn: conn, Tags: [{ Key: 'a', Value: 1 }] },
        }),
        'SerializationException',
      )
    })
    it('returns SerializationException when TagKeys holds an object', async () => {
      expectAwsError(
        await f.raw.call({
          operation: 'UntagResource',
          body: { ResourceArn: conn, TagKeys: [{}] },
        }),
        'SerializationException',
      )
    })
  })

  describe('validation', () => {
    it('returns ValidationException for a 129-character key', async () => {
      const res = await f.raw.call({
        operation: 'TagResource',
        body: { ResourceArn: conn, Tags: [{ Key: 'k'.repeat(129), Value: 'v' }] },
      })
      expectAwsError(
        res,
        'ValidationException',
        400,
        /at 'tags\.1\.member\.key' failed to satisfy constraint: Member must have length less than or equal to 128/,
      )
    })
    it('returns ValidationException for a 257-character value', async () => {
      const res = await f.raw.call({
        operation: 'TagResource',
        body: { ResourceArn: conn, Tags: [{ Key: 'k', Value: 'v'.repeat(257) }] },
      })
      expectAwsError(res, 'ValidationException', 400, /tags\.1\.member\.value/)
    })
    it('returns ValidationException for an empty key and a missing Tags', async () => {
      expectAwsError(
        await f.raw.call({
          operation: 'TagResource',
          body: { ResourceArn: conn, Tags: [{ Key: '', Value: '' }] },
        }),
        'ValidationException',
      )
      expectAwsError(
        await f.raw.call({ operation: 'TagResource', body: { ResourceArn: conn } }),
        'ValidationException',
        400,
        /tags/,
      )
      expectAwsError(
        await f.raw.call({ operation: 'UntagResource', body: { ResourceArn: conn } }),
        'ValidationException',
        400,
        /tagKeys/,
      )
    })
    it('returns ValidationException for a ResourceArn that is not an ARN', async () => {
      expectAwsError(
        await f.raw.call({
          operation: 'ListTagsForResource',
          body: { ResourceArn: 'connection/abc' },
        }),
        'ValidationException',
        400,
        /resourceArn/,
      )
    })
  })

  describe('authorization', () => {
    const unchanged = async () => expect(await tagsOf(conn)).toEqual([])
    describe('TagResource', () =>
      authorizationCases(
        f,
        'TagResource',
        () => ({ ResourceArn: conn, Tags: [{ Key: 'x', Value: 'y' }] }),
        unchanged,
      ))
    describe('UntagResource', () =>
      authorizationCases(f, 'UntagResource', () => ({ ResourceArn: conn, TagKeys: ['x'] })))
    describe('ListTagsForResource', () =>
      authorizationCases(f, 'ListTagsForResource', () => ({ ResourceArn: conn })))
  })

  describe('functionality', () => {
    it('adds, overwrites and lists tags on a connection; empty values are allowed', async () => {
      await f.sdk.send(
        new TagResourceCommand({
          ResourceArn: conn,
          Tags: [
            { Key: 'b', Value: '1' },
            { Key: 'a', Value: '' },
          ],
        }),
      )
      await f.sdk.send(
        new TagResourceCommand({ ResourceArn: conn, Tags: [{ Key: 'b', Value: '2' }] }),
      )
      expect(await tagsOf(conn)).toEqual([
        { Key: 'a', Value: '' },
        { Key: 'b', Value: '2' },
      ])
    })
    it('keeps keys case-sensitive', async () => {
      await f.sdk.send(
        new TagResourceCommand({ ResourceArn: conn, Tags: [{ Key: 'B', Value: 'upper' }] }),
      )
      expect((await tagsOf(conn))?.map((t) => t.Key)).toEqual(['B', 'a', 'b'])
    })
    it('removes keys and ignores keys that are absent', async () => {
      await f.sdk.send(
        new UntagResourceCommand({ ResourceArn: conn, TagKeys: ['a', 'B', 'never-there'] }),
      )
      expect(await tagsOf(conn)).toEqual([{ Key: 'b', Value: '2' }])
    })
    it('answers {"Tags": []} for a resource without tags', async () => {
      const res = await f.raw.call({
        operation: 'ListTagsForResource',
        body: { ResourceArn: host },
      })
      expect(res.json).toEqual({ Tags: [] })
    })
    it('tags hosts too', async () => {
      await f.sdk.send(
        new TagResourceCommand({ ResourceArn: host, Tags: [{ Key: 'env', Value: 'prod' }] }),
      )
      expect(await tagsOf(host)).toEqual([{ Key: 'env', Value: 'prod' }])
    })
    it('returns LimitExceededException past 50 tags and keeps the old tags', async () => {
      const many = Array.from({ length: 49 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }))
      await f.sdk.send(new TagResourceCommand({ ResourceArn: host, Tags: many })) // 50 with env
      const err = await sdkError(
        f.sdk.send(
          new TagResourceCommand({ ResourceArn: host, Tags: [{ Key: 'one-more', Value: 'v' }] }),
        ),
      )
      expect(err.name).toBe('LimitExceededException')
      expect(await tagsOf(host)).toHaveLength(50)
      // Overwriting an existing key is not a new tag.
      await f.sdk.send(
        new TagResourceCommand({ ResourceArn: host, Tags: [{ Key: 'env', Value: 'staging' }] }),
      )
    })
    it('returns ResourceNotFoundException for unknown resources on all three operations', async () => {
      expect(
        (
          await sdkError(
            f.sdk.send(
              new TagResourceCommand({ ResourceArn: missing, Tags: [{ Key: 'a', Value: 'b' }] }),
            ),
          )
        ).name,
      ).toBe('ResourceNotFoundException')
      expect(
        (
          await sdkError(
            f.sdk.send(new UntagResourceCommand({ ResourceArn: missing, TagKeys: ['a'] })),
          )
        ).name,
      ).toBe('ResourceNotFoundException')
      expect(
        (await sdkError(f.sdk.send(new ListTagsForResourceCommand({ ResourceArn: missing })))).name,
      ).toBe('ResourceNotFoundException')
      const other = 'arn:aws:codestar-connections:us-east-1:000000000000:repository-link/abc'
      expect(
        (await sdkError(f.sdk.send(new ListTagsForResourceCommand({ ResourceArn: other })))).name,
      ).toBe('ResourceNotFoundException')
    })
    it('refuses reserved aws: keys', async () => {
      expect(
        (
          await sdkError(
            f.sdk.send(
              new TagResourceCommand({ ResourceArn: conn, Tags: [{ Key: 'aws:x', Value: 'b' }] }),
            ),
          )
        ).name,
      ).toBe('ValidationException')
    })
    it('works through the codeconnections endpoint', async () => {
      const res = await f.raw.call({
        service: 'codeconnections',
        operation: 'TagResource',
        body: { ResourceArn: conn, Tags: [{ Key: 'via', Value: 'new' }] },
      })
      expect(res.status).toBe(200)
      expect(res.json).toEqual({})
      expect(await tagsOf(conn)).toContainEqual({ Key: 'via', Value: 'new' })
    })
    it('holds the 50-tag limit under concurrent TagResource calls', async () => {
      const target = (
        await f.sdk.send(
          new CreateConnectionCommand({ ConnectionName: uniqueName(), ProviderType: 'GitHub' }),
        )
      ).ConnectionArn!
      const results = await Promise.all(
        Array.from({ length: 4 }, (_, n) =>
          f.raw.call({
            operation: 'TagResource',
            body: {
              ResourceArn: target,
              Tags: Array.from({ length: 20 }, (_, i) => ({ Key: `w${n}-${i}`, Value: 'v' })),
            },
          }),
        ),
      )
      expect(results.filter((r) => r.status === 200)).toHaveLength(2)
      expect(await tagsOf(target)).toHaveLength(40)
    })
  })
})
