import { beforeAll, describe, expect, it } from 'vitest'
import {
  CreateConnectionCommand,
  DeleteConnectionCommand,
  GetConnectionCommand,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-codestar-connections'
import {
  authorizationCases,
  describeApi,
  expectAwsError,
  sdkError,
  uniqueName,
} from '../helpers/api.js'

describeApi('DeleteConnection', (f) => {
  const create = async (name = uniqueName()) =>
    (
      await f.sdk.send(
        new CreateConnectionCommand({
          ConnectionName: name,
          ProviderType: 'GitHub',
          Tags: [{ Key: 'k', Value: 'v' }],
        }),
      )
    ).ConnectionArn!

  describe('serialization', () => {
    it('returns SerializationException when ConnectionArn is an object', async () => {
      expectAwsError(
        await f.raw.call({ operation: 'DeleteConnection', body: { ConnectionArn: { a: 1 } } }),
        'SerializationException',
      )
    })
  })

  describe('validation', () => {
    it('returns ValidationException when ConnectionArn is missing', async () => {
      expectAwsError(
        await f.raw.call({ operation: 'DeleteConnection', body: {} }),
        'ValidationException',
        400,
        /connectionArn/,
      )
    })
    it('returns ValidationException for an ARN longer than 256 characters', async () => {
      const long = `arn:aws:codestar-connections:us-east-1:000000000000:connection/${'a'.repeat(250)}`
      expectAwsError(
        await f.raw.call({ operation: 'DeleteConnection', body: { ConnectionArn: long } }),
        'ValidationException',
        400,
        /less than or equal to 256/,
      )
    })
  })

  describe('authorization', () => {
    let arn = ''
    beforeAll(async () => {
      arn = await create()
    })
    authorizationCases(
      f,
      'DeleteConnection',
      () => ({ ConnectionArn: arn }),
      async () => {
        expect(
          (await f.sdk.send(new GetConnectionCommand({ ConnectionArn: arn }))).Connection
            ?.ConnectionArn,
        ).toBe(arn)
      },
    )
  })

  describe('functionality', () => {
    it('deletes the connection and its tags, answering {}', async () => {
      const arn = await create()
      const res = await f.raw.call({
        service: 'codestar-connections',
        operation: 'DeleteConnection',
        body: { ConnectionArn: arn },
      })
      expect(res.status).toBe(200)
      expect(res.json).toEqual({})
      expect(
        (await sdkError(f.sdk.send(new GetConnectionCommand({ ConnectionArn: arn })))).name,
      ).toBe('ResourceNotFoundException')
      expect(
        (await sdkError(f.sdk.send(new ListTagsForResourceCommand({ ResourceArn: arn })))).name,
      ).toBe('ResourceNotFoundException')
    })
    it('returns ResourceNotFoundException the second time', async () => {
      const arn = await create()
      await f.sdk.send(new DeleteConnectionCommand({ ConnectionArn: arn }))
      const err = await sdkError(f.sdk.send(new DeleteConnectionCommand({ ConnectionArn: arn })))
      expect(err.name).toBe('ResourceNotFoundException')
    })
    it('frees the name but never reuses the ARN', async () => {
      const name = uniqueName()
      const first = await create(name)
      await f.sdk.send(new DeleteConnectionCommand({ ConnectionArn: first }))
      const second = await create(name)
      expect(second).not.toBe(first)
      expect(await f.server.store.reserveId(first.split('/')[1]!)).toBe(false)
    })
    it('deletes a codeconnections connection through the codestar-connections endpoint', async () => {
      const res = await f.raw.call({
        service: 'codeconnections',
        operation: 'CreateConnection',
        body: { ConnectionName: uniqueName(), ProviderType: 'GitHub' },
      })
      const arn = res.json['ConnectionArn'] as string
      await f.sdk.send(new DeleteConnectionCommand({ ConnectionArn: arn }))
      expect(
        (await sdkError(f.sdk.send(new GetConnectionCommand({ ConnectionArn: arn })))).name,
      ).toBe('ResourceNotFoundException')
    })
  })
})
