/**
 * `#{…}` values are data, through the server: a commit message full of shell syntax pushed to a
 * watched repository, and a pipeline variable given to StartPipelineExecution by a caller who may
 * only start the pipeline, reach the Commands action as their literal text; nothing in them runs.
 */
import {
  CreatePipelineCommand,
  StartPipelineExecutionCommand,
  type CodePipelineClient,
} from '@aws-sdk/client-codepipeline'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ConnectFixture } from '../helpers/connect.js'
import {
  actionLog,
  declaration,
  executions,
  finished,
  startPipelineFixture,
  stopPipelineFixture,
  waitFor,
} from '../helpers/pipelines.js'

const MESSAGE = 'fix $(id > pwned)\n`touch pwned`\n\'; touch pwned; \'\n"; touch pwned; "\\'
const GREETING = '$(id>pwned)`touch pwned`'

describe('#{…} values in Commands are data [sqlite]', () => {
  let f: ConnectFixture
  let cp: CodePipelineClient
  let arn: string
  let role: string
  beforeAll(async () => {
    ;({ f, cp, arn, role } = await startPipelineFixture('sqlite', { 'enable-commands': true }))
  })
  afterAll(() => stopPipelineFixture({ f, cp }))

  const logOf = async (id: string) => actionLog(cp, 'values', id)

  it('a pushed commit message and a StartPipelineExecution variable print as their text', async () => {
    await cp.send(
      new CreatePipelineCommand({
        pipeline: declaration({
          name: 'values',
          roleArn: role,
          connectionArn: arn,
          variables: [{ name: 'greeting', defaultValue: 'hello' }],
          commands: [
            "printf '[%s]\\n' '#{SourceVariables.CommitMessage}'",
            "printf '[%s]\\n' #{SourceVariables.CommitMessage}",
            'printf \'[%s]\\n\' "#{SourceVariables.CommitMessage}"',
            "printf 'greeting=[%s]\\n' #{variables.greeting} '#{variables.greeting}'",
            'echo greeting: "#{variables.greeting}"',
            'if [ -e pwned ] || [ -e ../pwned ]; then echo "found: p""wned"; else echo clean; fi',
          ],
        }),
      }),
    )
    const [first] = await waitFor('the first run', async () => {
      const e = await executions(cp, 'values')
      return e.length ? e : undefined
    })
    expect((await finished(cp, 'values', first!.pipelineExecutionId!)).status).toBe('Succeeded')
    await waitFor('the webhook', async () =>
      (await f.sb.admin<{ hooks: unknown[] }>('hooks')).hooks.length > 0 ? true : undefined,
    )
    const { commit } = await f.sb.admin<{ commit: string }>('repositories/acme/app/commits', {
      branch: 'main',
      message: MESSAGE,
      author: 'alice',
      files: { 'pushed.txt': 'pushed\n' },
    })
    const pushed = await waitFor('the pushed run', async () =>
      (await executions(cp, 'values')).find((e) => e.sourceRevisions?.[0]?.revisionId === commit),
    )
    const done = await finished(cp, 'values', pushed.pipelineExecutionId!)
    expect(done.status, done.statusSummary).toBe('Succeeded')
    const log = await logOf(pushed.pipelineExecutionId!)
    // Three times the message as it is (the sandbox's commit message keeps git's final newline).
    const seen = log.split(`[${MESSAGE}`)
    expect(seen).toHaveLength(4)
    for (const after of seen.slice(1)) expect(after).toMatch(/^\n?\]\n/)
    expect(log).toContain('greeting=[hello]\ngreeting=[hello]\n')
    expect(log).toContain('\nclean\n')
    expect(log).not.toContain('found: pwned')
    expect(log).not.toMatch(/uid=\d/)

    const started = await cp.send(
      new StartPipelineExecutionCommand({
        name: 'values',
        variables: [{ name: 'greeting', value: GREETING }],
      }),
    )
    const byCaller = await finished(cp, 'values', started.pipelineExecutionId!)
    expect(byCaller.status, byCaller.statusSummary).toBe('Succeeded')
    const log2 = await logOf(started.pipelineExecutionId!)
    expect(log2).toContain(`greeting=[${GREETING}]\ngreeting=[${GREETING}]\n`)
    expect(log2).toContain(`\ngreeting: ${GREETING}\n`)
    // The `$ command` lines show the values too, as text.
    expect(log2).toContain(`$ echo greeting: "${GREETING}"`)
    expect(log2).toContain('\nclean\n')
    expect(log2).not.toContain('found: pwned')
    expect(log2).not.toMatch(/uid=\d/)
  })
})
