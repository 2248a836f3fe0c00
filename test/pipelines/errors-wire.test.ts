/**
 * Error bodies name their message member as each service's model does: CodePipeline's error
 * shapes have `message`, the connections services' `Message` (issue 12, item 3). Raw calls read
 * the exact body; the SDK still reads the text.
 */
import { GetPipelineCommand } from '@aws-sdk/client-codepipeline'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RawClient } from '../helpers/client.js'
import { pipelineClient } from '../helpers/pipelines.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

describe('error message member per service model', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer('sqlite')
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('answers CodePipeline errors with `message`', async () => {
    const raw = new RawClient(server.url, server.credentials)
    const res = await raw.call({
      target: 'CodePipeline_20150709.GetPipeline',
      signingService: 'codepipeline',
      headers: { 'content-type': 'application/x-amz-json-1.1' },
      body: { name: 'no-such-pipeline' },
    })
    const json = res.json as Record<string, unknown>
    expect(res.status).toBe(400)
    expect(Object.keys(json).sort()).toEqual(['__type', 'message'])
    expect(json['__type']).toBe('PipelineNotFoundException')
    expect(String(json['message'])).toMatch(/no-such-pipeline/)
    // The SDK reads it as the error's message.
    const cp = pipelineClient(server.url, server.credentials)
    const err = await cp
      .send(new GetPipelineCommand({ name: 'no-such-pipeline' }))
      .catch((e: unknown) => e as Error)
    cp.destroy()
    expect((err as Error).name).toBe('PipelineNotFoundException')
    expect((err as Error).message).toMatch(/no-such-pipeline/)
  })

  it('answers connections errors with `Message`', async () => {
    const raw = new RawClient(server.url, server.credentials)
    const res = await raw.call({
      operation: 'GetConnection',
      body: {
        ConnectionArn:
          'arn:aws:codeconnections:us-east-1:000000000000:connection/00000000-0000-0000-0000-000000000000',
      },
    })
    expect(res.status).toBe(400)
    expect(Object.keys(res.json).sort()).toEqual(['Message', '__type'])
  })
})
