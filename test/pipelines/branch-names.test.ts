/**
 * Branch names with slashes, dots and Unicode end to end on the sandbox Bitbucket (issue 12 item
 * 6): a pipeline on each branch runs from the branch head (looked up by name), a push to the
 * branch triggers it through the webhook, and the source action's CODE_ZIP (fetched over Git) and
 * output variables carry the branch and the commit.
 */
import {
  CreatePipelineCommand,
  ListActionExecutionsCommand,
  type CodePipelineClient,
} from '@aws-sdk/client-codepipeline'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ConnectFixture } from '../helpers/connect.js'
import { testEngines } from '../helpers/engines.js'
import {
  actionLog,
  declaration,
  executions,
  finished,
  startPipelineFixture,
  stopPipelineFixture,
  waitFor,
} from '../helpers/pipelines.js'

const BRANCHES = ['release/1.0', 'feature/a.b/c', 'fix/ünïcødé-分支']

for (const engine of testEngines()) {
  describe(`branch names [${engine}]`, () => {
    let f: ConnectFixture
    let cp: CodePipelineClient
    let arn: string
    let role: string
    beforeAll(async () => {
      ;({ f, cp, arn, role } = await startPipelineFixture(engine, { 'enable-commands': true }))
    })
    afterAll(() => stopPipelineFixture({ f, cp }))

    const push = (branch: string, text: string) =>
      f.sb.admin<{ commit: string }>('repositories/acme/app/commits', {
        branch,
        message: `on ${branch}: ${text}`,
        author: 'alice',
        files: { 'branch.txt': `${text}\n` },
      })

    async function check(name: string, id: string, branch: string, commit: string, text: string) {
      const done = await finished(cp, name, id)
      expect(done.status, done.statusSummary).toBe('Succeeded')
      expect(done.artifactRevisions![0]!.revisionId).toBe(commit)
      const actions = await cp.send(
        new ListActionExecutionsCommand({
          pipelineName: name,
          filter: { pipelineExecutionId: id },
        }),
      )
      const source = actions.actionExecutionDetails!.find((a) => a.actionName === 'Source')!
      expect(source.output!.outputVariables).toMatchObject({ BranchName: branch, CommitId: commit })
      const log = await actionLog(cp, name, id)
      expect(log).toContain(`content=${text}`)
      expect(log).toContain(`branch=${branch}`)
    }

    it.each(BRANCHES.map((b, i) => [b, i]))(
      '%s: runs from the branch head, then from a push to it',
      async (branch, i) => {
        const name = `branch-${i}`
        const first = await push(branch as string, `first-${i}`)
        await cp.send(
          new CreatePipelineCommand({
            pipeline: declaration({
              name,
              roleArn: role,
              connectionArn: arn,
              branch: branch as string,
              commands: [
                'test ! -e .git',
                'echo "content=$(cat branch.txt)"',
                'echo "branch=#{SourceVariables.BranchName}"',
              ],
              triggers: [
                {
                  providerType: 'CodeStarSourceConnection',
                  gitConfiguration: {
                    sourceActionName: 'Source',
                    push: [{ branches: { includes: [branch as string] } }],
                  },
                },
              ],
            }),
          }),
        )
        // The creation's run: the branch head, looked up by name.
        const [created] = await waitFor('the first execution', async () => {
          const e = await executions(cp, name)
          return e.length > 0 ? e : undefined
        })
        await check(
          name,
          created!.pipelineExecutionId!,
          branch as string,
          first.commit,
          `first-${i}`,
        )
        // A push to the branch: the webhook starts it at the pushed commit.
        const second = await push(branch as string, `second-${i}`)
        const pushed = await waitFor('the pushed execution', async () => {
          const e = await executions(cp, name)
          return e.find((x) => x.sourceRevisions?.[0]?.revisionId === second.commit)
        })
        expect(pushed.trigger!.triggerType).toBe('WebhookV2')
        await check(
          name,
          pushed.pipelineExecutionId!,
          branch as string,
          second.commit,
          `second-${i}`,
        )
      },
    )
  })
}
