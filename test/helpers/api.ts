/**
 * Shared scaffolding for the per-operation API suites: one server per engine, an SDK client and a
 * raw client for both endpoints, and a few assertions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CodeStarConnectionsClient } from '@aws-sdk/client-codestar-connections'
import { testEngines, type Engine } from './engines.js'
import { startTestServer, type TestServer } from './server.js'
import { RawClient, sdkClient, type RawResponse, type Service } from './client.js'
import type { ServeFlags } from '../../src/config.js'

export interface ApiFixture {
  server: TestServer
  sdk: CodeStarConnectionsClient
  raw: RawClient
  engine: Engine
}

/** Runs `body` once per store engine with a fresh server. */
export function describeApi(
  name: string,
  body: (f: ApiFixture) => void,
  flags: ServeFlags = {},
): void {
  for (const engine of testEngines()) {
    describe(`${name} [${engine}]`, () => {
      const f = {} as ApiFixture
      beforeAll(async () => {
        f.engine = engine
        f.server = await startTestServer(engine, flags)
        f.sdk = sdkClient(f.server.url, f.server.credentials)
        f.raw = new RawClient(f.server.url, f.server.credentials)
      })
      afterAll(async () => {
        f.sdk?.destroy()
        await f.server?.stop()
      })
      body(f)
    })
  }
}

export function expectAwsError(
  res: RawResponse,
  type: string,
  status = 400,
  message?: string | RegExp,
): void {
  expect({ status: res.status, type: res.json.__type }).toEqual({ status, type })
  expect(res.headers.get('x-amzn-errortype')).toBe(type)
  expect(res.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/)
  expect(typeof res.json.Message).toBe('string')
  if (message !== undefined) expect(res.json.Message).toMatch(message)
}

/** Catches the SDK's error and returns it (fails when the call succeeds). */
export async function sdkError(
  p: Promise<unknown>,
): Promise<Error & { name: string; $metadata: { httpStatusCode?: number } }> {
  try {
    await p
  } catch (err) {
    return err as Error & { name: string; $metadata: { httpStatusCode?: number } }
  }
  throw new Error('expected the call to fail')
}

/**
 * The authorization block every operation shares: unsigned, unknown-key, wrong-secret and
 * wrong-scope requests are refused with AWS's codes, and `unchanged` confirms nothing happened.
 */
export function authorizationCases(
  f: ApiFixture,
  operation: string,
  body: () => unknown,
  unchanged?: () => Promise<void>,
): void {
  const services: Service[] = ['codestar-connections', 'codeconnections']
  for (const service of services) {
    it(`returns MissingAuthenticationTokenException for an unsigned ${service} request`, async () => {
      const res = await f.raw.call({ service, operation, body: body(), credentials: null })
      expectAwsError(res, 'MissingAuthenticationTokenException', 403)
      await unchanged?.()
    })
    it(`returns UnrecognizedClientException for an unknown access key (${service})`, async () => {
      const res = await f.raw.call({
        service,
        operation,
        body: body(),
        credentials: { accessKeyId: 'JKIAUNKNOWNUNKNOWN00', secretAccessKey: 'x' },
      })
      expectAwsError(res, 'UnrecognizedClientException', 403)
      await unchanged?.()
    })
    it(`returns InvalidSignatureException for a wrong secret (${service})`, async () => {
      const res = await f.raw.call({
        service,
        operation,
        body: body(),
        credentials: {
          accessKeyId: f.server.credentials.accessKeyId,
          secretAccessKey: 'wrong-secret',
        },
      })
      expectAwsError(
        res,
        'InvalidSignatureException',
        403,
        /signature we calculated does not match/,
      )
      await unchanged?.()
    })
  }
  it('returns InvalidSignatureException when the credential scope names the other service', async () => {
    const res = await f.raw.call({
      service: 'codeconnections',
      signingService: 'codestar-connections',
      operation,
      body: body(),
    })
    expectAwsError(
      res,
      'InvalidSignatureException',
      403,
      /scoped to correct service: 'codeconnections'/,
    )
    await unchanged?.()
  })
}

export const uniqueName = (prefix = 'c'): string =>
  `${prefix}-${Math.random().toString(36).slice(2, 10)}`
