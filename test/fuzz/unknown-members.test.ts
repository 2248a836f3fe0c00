/**
 * Members the model does not know are ignored, as AWS's JSON services ignore them: never stored,
 * never echoed — so nothing outside the model (a NUL included) slips past validation into the
 * store. An outside review stored `"junk\u0000": 1` in a pipeline through UpdatePipeline and read
 * it back from GetPipeline on PostgreSQL.
 */
import { CreatePipelineCommand, type CodePipelineClient } from '@aws-sdk/client-codepipeline'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ConnectFixture } from '../helpers/connect.js'
import { testEngines } from '../helpers/engines.js'
import { RawClient } from '../helpers/client.js'
import { declaration, startPipelineFixture, stopPipelineFixture } from '../helpers/pipelines.js'

for (const engine of testEngines()) {
  describe(`unknown members are ignored [${engine}]`, () => {
    let f: ConnectFixture
    let cp: CodePipelineClient
    let arn: string
    let role: string
    let raw: RawClient
    beforeAll(async () => {
      ;({ f, cp, arn, role } = await startPipelineFixture(engine))
      raw = new RawClient(f.server.url, f.server.credentials)
    })
    afterAll(() => stopPipelineFixture({ f, cp }))

    /** A raw CodePipeline call (the SDK would not send members outside the model). */
    const pipelineCall = (operation: string, body: unknown) =>
      raw.call({
        target: `CodePipeline_20150709.${operation}`,
        signingService: 'codepipeline',
        headers: { 'content-type': 'application/x-amz-json-1.1' },
        body,
      })

    it('drops them from a pipeline declaration at every level, NUL and all', async () => {
      const decl = declaration({ name: 'unknowns', roleArn: role, connectionArn: arn })
      await cp.send(new CreatePipelineCommand({ pipeline: decl }))
      const got = await pipelineCall('GetPipeline', { name: 'unknowns' })
      const pipeline = got.json['pipeline'] as Record<string, unknown> & {
        stages: (Record<string, unknown> & { actions: Record<string, unknown>[] })[]
      }
      pipeline['junk\u0000'] = 1
      pipeline.stages[0]!.actions[0]!['env'] = { A: '\u0000' }
      pipeline.stages[0]!['extra'] = 'x'
      const updated = await pipelineCall('UpdatePipeline', { pipeline })
      expect(updated.status, updated.text).toBe(200)
      for (const text of [
        updated.text,
        (await pipelineCall('GetPipeline', { name: 'unknowns' })).text,
      ]) {
        expect(text).not.toContain('junk')
        expect(text).not.toContain('"env"')
        expect(text).not.toContain('"extra"')
        expect(text).not.toContain('\\u0000')
      }
    })

    it('ignores them in a connections call', async () => {
      const r = await raw.call({
        operation: 'CreateConnection',
        body: { ConnectionName: 'unknown-members', ProviderType: 'Bitbucket', 'Junk\u0000': 1 },
      })
      expect(r.status, r.text).toBe(200)
      const got = await raw.call({
        operation: 'GetConnection',
        body: { ConnectionArn: r.json['ConnectionArn'], Extra: { deep: true } },
      })
      expect(got.status).toBe(200)
      expect(got.text).not.toContain('Junk')
    })
  })
}
