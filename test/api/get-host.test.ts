import { describe, expect, it } from 'vitest'
import { CreateHostCommand, GetHostCommand } from '@aws-sdk/client-codestar-connections'
import { authorizationCases, describeApi, expectAwsError, sdkError } from '../helpers/api.js'

describeApi('GetHost', (f) => {
  describe('serialization', () => {
    it('returns SerializationException when HostArn is a boolean', async () => {
      expectAwsError(
        await f.raw.call({ operation: 'GetHost', body: { HostArn: true } }),
        'SerializationException',
      )
    })
  })
  describe('validation', () => {
    it('refuses a codeconnections host ARN on the codestar-connections endpoint (2019 model pattern)', async () => {
      const res = await f.raw.call({
        service: 'codestar-connections',
        operation: 'GetHost',
        body: { HostArn: 'arn:aws:codeconnections:us-east-1:000000000000:host/x-00000000' },
      })
      expectAwsError(res, 'ValidationException', 400, /hostArn/)
    })
    it('returns ValidationException when HostArn is missing', async () => {
      expectAwsError(
        await f.raw.call({ operation: 'GetHost', body: {} }),
        'ValidationException',
        400,
        /hostArn/,
      )
    })
  })
  describe('authorization', () => {
    authorizationCases(f, 'GetHost', () => ({
      HostArn: 'arn:aws:codestar-connections:us-east-1:000000000000:host/x-00000000',
    }))
  })
  describe('functionality', () => {
    it('answers without HostArn and StatusMessage', async () => {
      const { HostArn } = await f.sdk.send(
        new CreateHostCommand({
          Name: 'h',
          ProviderType: 'GitLabSelfManaged',
          ProviderEndpoint: 'https://gl.example.com',
        }),
      )
      const res = await f.raw.call({ operation: 'GetHost', body: { HostArn } })
      expect(res.json).toEqual({
        Name: 'h',
        ProviderType: 'GitLabSelfManaged',
        ProviderEndpoint: 'https://gl.example.com',
        Status: 'PENDING',
      })
    })
    it('returns ResourceNotFoundException for an unknown host', async () => {
      const err = await sdkError(
        f.sdk.send(
          new GetHostCommand({
            HostArn: 'arn:aws:codestar-connections:us-east-1:000000000000:host/x-00000000',
          }),
        ),
      )
      expect(err.name).toBe('ResourceNotFoundException')
    })
  })
})
