import { describe, expect, it } from 'vitest'
import { CreateConnectionCommand, GetConnectionCommand } from '@aws-sdk/client-codestar-connections'
import {
  authorizationCases,
  describeApi,
  expectAwsError,
  sdkError,
  uniqueName,
} from '../helpers/api.js'

describeApi('GetConnection', (f) => {
  let arn = ''
  const create = async () =>
    (
      await f.sdk.send(
        new CreateConnectionCommand({ ConnectionName: uniqueName(), ProviderType: 'GitHub' }),
      )
    ).ConnectionArn!

  describe('serialization', () => {
    it('returns SerializationException when ConnectionArn is a list', async () => {
      const res = await f.raw.call({ operation: 'GetConnection', body: { ConnectionArn: ['a'] } })
      expectAwsError(res, 'SerializationException')
    })
    it('returns SerializationException for a JSON array body', async () => {
      const res = await f.raw.call({ operation: 'GetConnection', rawBody: '[]' })
      expectAwsError(res, 'SerializationException')
    })
  })

  describe('validation', () => {
    it('returns ValidationException when ConnectionArn is missing', async () => {
      const res = await f.raw.call({ operation: 'GetConnection', body: {} })
      expectAwsError(
        res,
        'ValidationException',
        400,
        "Value null at 'connectionArn' failed to satisfy constraint: Member must not be null",
      )
    })
    it('returns ValidationException for an ARN that does not match the pattern', async () => {
      const res = await f.raw.call({
        operation: 'GetConnection',
        body: { ConnectionArn: 'not-an-arn' },
      })
      expectAwsError(res, 'ValidationException', 400, /regular expression pattern: arn:aws/)
    })
  })

  describe('authorization', () => {
    authorizationCases(f, 'GetConnection', () => ({
      ConnectionArn: arn || 'arn:aws:codestar-connections:us-east-1:000000000000:connection/x',
    }))
  })

  describe('functionality', () => {
    it('reads a connection through both endpoints and both target forms', async () => {
      arn = await create()
      for (const target of [
        'CodeStar_connections_20191201',
        'com.amazonaws.codestar.connections.CodeStar_connections_20191201',
      ]) {
        const res = await f.raw.call({
          service: 'codestar-connections',
          target: `${target}.GetConnection`,
          body: { ConnectionArn: arn },
        })
        expect(res.status).toBe(200)
        expect((res.json['Connection'] as { ConnectionArn: string }).ConnectionArn).toBe(arn)
      }
      for (const target of [
        'CodeConnections_20231201',
        'com.amazonaws.codeconnections.CodeConnections_20231201',
      ]) {
        const res = await f.raw.call({
          service: 'codeconnections',
          target: `${target}.GetConnection`,
          body: { ConnectionArn: arn },
        })
        expect(res.status).toBe(200)
        expect(res.json['Connection']).toMatchObject({
          ConnectionArn: arn,
          ConnectionStatus: 'PENDING',
        })
      }
    })
    it('reads a codeconnections resource through the codestar-connections SDK', async () => {
      const res = await f.raw.call({
        service: 'codeconnections',
        operation: 'CreateConnection',
        body: { ConnectionName: uniqueName(), ProviderType: 'GitLab' },
      })
      const newArn = res.json['ConnectionArn'] as string
      const got = await f.sdk.send(new GetConnectionCommand({ ConnectionArn: newArn }))
      expect(got.Connection?.ConnectionArn).toBe(newArn)
      expect(got.Connection?.ProviderType).toBe('GitLab')
    })
    it('leaves out HostArn when the connection has no host (never null)', async () => {
      const res = await f.raw.call({
        operation: 'GetConnection',
        body: { ConnectionArn: await create() },
      })
      expect(res.text).not.toContain('null')
      expect(res.json['Connection']).not.toHaveProperty('HostArn')
    })
    it('returns ResourceNotFoundException for an unknown connection', async () => {
      const err = await sdkError(
        f.sdk.send(
          new GetConnectionCommand({
            ConnectionArn:
              'arn:aws:codestar-connections:us-east-1:000000000000:connection/00000000-0000-4000-8000-000000000000',
          }),
        ),
      )
      expect(err.name).toBe('ResourceNotFoundException')
      expect(err.$metadata.httpStatusCode).toBe(400)
    })
    it('does not find a connection under the ARN of the other prefix', async () => {
      const own = await create()
      const other = own.replace(':codestar-connections:', ':codeconnections:')
      const err = await sdkError(f.sdk.send(new GetConnectionCommand({ ConnectionArn: other })))
      expect(err.name).toBe('ResourceNotFoundException')
    })
    it('does not find a connection of another account', async () => {
      const own = await create()
      const err = await sdkError(
        f.sdk.send(
          new GetConnectionCommand({
            ConnectionArn: own.replace(':000000000000:', ':111111111111:'),
          }),
        ),
      )
      expect(err.name).toBe('ResourceNotFoundException')
    })
  })
})
