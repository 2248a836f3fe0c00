/**
 * File-path filters end to end: a push whose every changed file is excluded starts nothing (and
 * the event's recorded outcome says why), a push touching one included file starts the pipeline.
 * "Nothing started" is asserted only after a positive barrier: the event's outcome is recorded.
 */
import { CreatePipelineCommand, type CodePipelineClient } from '@aws-sdk/client-codepipeline'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ConnectFixture } from '../helpers/connect.js'
import { testEngines } from '../helpers/engines.js'
import {
  declaration,
  executions,
  finished,
  startPipelineFixture,
  stopPipelineFixture,
  waitFor,
} from '../helpers/pipelines.js'

const ACCOUNT = '000000000000'

for (const engine of testEngines()) {
  describe(`file-path trigger filters, end to end [${engine}]`, () => {
    let f: ConnectFixture
    let cp: CodePipelineClient
    let arn: string
    let role: string
    beforeAll(async () => {
      ;({ f, cp, arn, role } = await startPipelineFixture(engine))
    })
    afterAll(() => stopPipelineFixture({ f, cp }))

    const push = (files: Record<string, string | null>) =>
      f.sb.admin<{ commit: string }>('repositories/acme/app/commits', {
        branch: 'main',
        message: 'change',
        author: 'alice',
        files,
      })
    const pushRuns = async () =>
      (await executions(cp, 'paths')).filter((e) => e.trigger!.triggerType !== 'CreatePipeline')
    /** The recorded outcome of the push event for `commit`, once the engine has processed it. */
    const outcome = (commit: string) =>
      waitFor(`the outcome of ${commit.slice(0, 7)}`, async () => {
        const recent = await f.server.store.pipelines.events.recent(ACCOUNT, 'acme/app', 20)
        const e = recent.find(
          (r) => r.processedAt !== null && r.event.includes(commit) && r.result !== null,
        )
        if (!e) return undefined
        const all = JSON.parse(e.result!) as {
          pipeline: string
          started?: string
          reason: string
        }[]
        return all.find((o) => o.pipeline === 'paths')
      })

    it('starts nothing for a push touching only excluded files, and starts on an included one', async () => {
      await cp.send(
        new CreatePipelineCommand({
          pipeline: declaration({
            name: 'paths',
            roleArn: role,
            connectionArn: arn,
            triggers: [
              {
                providerType: 'CodeStarSourceConnection',
                gitConfiguration: {
                  sourceActionName: 'Source',
                  push: [
                    {
                      branches: { includes: ['main'] },
                      filePaths: {
                        includes: ['src/**'],
                        // Java's glob: '**' spans directories, so '**.md' is any .md file.
                        excludes: ['**.md', 'src/generated/**'],
                      },
                    },
                  ],
                },
              },
            ],
          }),
        }),
      )
      await waitFor('the creation run', async () =>
        (await executions(cp, 'paths')).length ? true : undefined,
      )
      await waitFor('the webhook', async () =>
        (await f.sb.admin<{ hooks: unknown[] }>('hooks')).hooks.length > 0 ? true : undefined,
      )

      const excludedOnly = await push({
        'src/NOTES.md': 'notes\n',
        'src/generated/api.c': 'int generated;\n',
      })
      const skipped = await outcome(excludedOnly.commit)
      expect(skipped?.started).toBeUndefined()
      expect(skipped?.reason).toMatch(/excluded by/)
      expect(await pushRuns()).toHaveLength(0)

      // Outside the includes altogether: nothing either.
      const outside = await push({ 'README.md': 'readme v2\n' })
      expect((await outcome(outside.commit))?.started).toBeUndefined()
      expect(await pushRuns()).toHaveLength(0)

      // One included file among excluded ones is enough.
      const included = await push({
        'src/generated/api.c': 'int generated2;\n',
        'src/main.c': 'int main(void) { return 1; }\n',
      })
      const ran = await outcome(included.commit)
      const runs = await pushRuns()
      expect(runs).toHaveLength(1)
      expect(ran?.started).toBe(runs[0]!.pipelineExecutionId)
      // The run is of the included push (its Build is a Commands action, refused here: no
      // --enable-commands; the source revision is what matters).
      const done = await finished(cp, 'paths', runs[0]!.pipelineExecutionId!)
      expect(done.artifactRevisions![0]!.revisionId).toBe(included.commit)
    })
  })
}
