/**
 * The trigger matrix for a `ProviderType GitLab` source on the sandbox GitLab, whose project hook
 * (registered by Junction) reaches `/webhooks/<id>`: branch includes/excludes with `/` in branch
 * names, file paths, tags, and merge requests (`open`/`reopen` → OPEN, `update` with new commits →
 * UPDATED, `update` without them → nothing, `merge` and `close` → CLOSED) with branch filters.
 * The project lies in a nested subgroup (acme/platform/tools/app).
 * "Nothing started" is asserted only after a positive barrier: the event's outcome is recorded,
 * or a later matching event's execution is the only one.
 */
import {
  CreatePipelineCommand,
  ListActionExecutionsCommand,
  type PipelineDeclaration,
} from '@aws-sdk/client-codepipeline'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { testEngines } from '../helpers/engines.js'
import {
  glCommit,
  glMrAction,
  glOpenMr,
  glOutcomes,
  glPush,
  PROJECT,
  pullOf,
  pushOf,
  startGlPipelineFixture,
  stopGlPipelineFixture,
  type EventOutcome,
  type GlPipelineFixture,
} from '../helpers/gitlab-pipelines.js'
import { declaration, executions, finished, waitFor } from '../helpers/pipelines.js'

vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 })

type Git = NonNullable<NonNullable<PipelineDeclaration['triggers']>[number]['gitConfiguration']>

for (const engine of testEngines()) {
  describe(`GitLab source triggers [${engine}]`, () => {
    let f: GlPipelineFixture
    beforeAll(async () => {
      f = await startGlPipelineFixture(engine)
    })
    afterAll(() => stopGlPipelineFixture(f))

    /** A pipeline on the project with these trigger filters; its CreatePipeline run finished. */
    const pipeline = async (name: string, git: Omit<Git, 'sourceActionName'>) => {
      await f.cp.send(
        new CreatePipelineCommand({
          pipeline: declaration({
            name,
            roleArn: f.role,
            connectionArn: f.arn,
            repository: PROJECT,
            triggers: [
              {
                providerType: 'CodeStarSourceConnection',
                gitConfiguration: { sourceActionName: 'Source', ...git },
              },
            ],
          }),
        }),
      )
      const [first] = await waitFor(`the creation run of ${name}`, async () => {
        const e = await executions(f.cp, name)
        return e.length > 0 ? e : undefined
      })
      await finished(f.cp, name, first!.pipelineExecutionId!)
    }
    /** The executions an event started (not the creation run), oldest first. */
    const runs = async (name: string) =>
      (await executions(f.cp, name))
        .filter((e) => e.trigger!.triggerType !== 'CreatePipeline')
        .reverse()
    const outcomeFor = (all: EventOutcome[], p: string) => all.find((o) => o.pipeline === p)
    /** The source action of an execution (its Build is a Commands action, not enabled here). */
    const sourceOf = async (name: string, id: string) =>
      (
        await f.cp.send(
          new ListActionExecutionsCommand({
            pipelineName: name,
            filter: { pipelineExecutionId: id },
          }),
        )
      ).actionExecutionDetails!.find((a) => a.actionName === 'Source')!

    it('a push starts the pipelines whose branch filters match, at the pushed commit', async () => {
      await pipeline('gl-branches', {
        push: [{ branches: { includes: ['release/**', 'main'], excludes: ['release/skip-*'] } }],
      })
      const skipped = await glCommit(f, 'release/skip-1', { 'r.txt': '1\n' })
      const o1 = outcomeFor(
        await glOutcomes(f, 'the excluded push', pushOf('release/skip-1', { after: skipped })),
        'gl-branches',
      )
      expect(o1?.started).toBeUndefined()
      const other = await glCommit(f, 'topic/x', { 't.txt': '1\n' })
      const o2 = outcomeFor(
        await glOutcomes(f, 'the unmatched push', pushOf('topic/x', { after: other })),
        'gl-branches',
      )
      expect(o2?.started).toBeUndefined()
      expect(await runs('gl-branches')).toHaveLength(0)
      const pushed = await glCommit(f, 'release/1.0/hotfix', { 'r.txt': '2\n' })
      const run = await waitFor('the matching run', async () => (await runs('gl-branches'))[0])
      const done = await finished(f.cp, 'gl-branches', run.pipelineExecutionId!)
      expect((await sourceOf('gl-branches', run.pipelineExecutionId!)).status).toBe('Succeeded')
      expect(done.trigger!.triggerType).toBe('WebhookV2')
      expect(done.trigger!.triggerDetail).toContain(pushed)
      expect(done.artifactRevisions![0]!.revisionId).toBe(pushed)
      await glOutcomes(f, 'the matching push', pushOf('release/1.0/hotfix', { after: pushed }))
      expect(await runs('gl-branches')).toHaveLength(1)
    })

    it('file paths: a push of only excluded files starts nothing, an included file starts it', async () => {
      await pipeline('gl-paths', {
        push: [
          {
            branches: { includes: ['main'] },
            filePaths: { includes: ['src/**'], excludes: ['**.md', 'src/generated/**'] },
          },
        ],
      })
      const excluded = await glCommit(f, 'main', {
        'src/NOTES.md': 'n\n',
        'src/generated/api.c': 'int g;\n',
      })
      const o1 = outcomeFor(
        await glOutcomes(f, 'the excluded push', pushOf('main', { after: excluded })),
        'gl-paths',
      )
      expect(o1?.started).toBeUndefined()
      expect(o1?.reason).toMatch(/excluded by/)
      const outside = await glCommit(f, 'main', { 'README.md': 'readme v2\n' })
      const o2 = outcomeFor(
        await glOutcomes(f, 'the outside push', pushOf('main', { after: outside })),
        'gl-paths',
      )
      expect(o2?.started).toBeUndefined()
      expect(await runs('gl-paths')).toHaveLength(0)
      const included = await glCommit(f, 'main', {
        'src/generated/api.c': 'int g2;\n',
        'src/main.c': 'int main(void) { return 0; }\n',
      })
      const o3 = outcomeFor(
        await glOutcomes(f, 'the included push', pushOf('main', { after: included })),
        'gl-paths',
      )
      const all = await runs('gl-paths')
      expect(all).toHaveLength(1)
      expect(o3?.started).toBe(all[0]!.pipelineExecutionId)
      const done = await finished(f.cp, 'gl-paths', all[0]!.pipelineExecutionId!)
      expect(done.artifactRevisions![0]!.revisionId).toBe(included)
    })

    it('tag pushes start pipelines with matching tag filters, at the tagged commit', async () => {
      await pipeline('gl-tags', { push: [{ tags: { includes: ['v*'], excludes: ['v*-rc*'] } }] })
      const head = await glCommit(f, 'main', { 'tagged.txt': '1\n' })
      await glPush(f, { 'refs/tags/v2.0-rc1': head })
      const rc = outcomeFor(
        await glOutcomes(f, 'the rc tag push', pushOf('v2.0-rc1', { after: head })),
        'gl-tags',
      )
      expect(rc?.started).toBeUndefined()
      const o = outcomeFor(
        await glOutcomes(f, 'the main push', pushOf('main', { after: head })),
        'gl-tags',
      )
      expect(o?.started).toBeUndefined()
      await glPush(f, { 'refs/tags/v2.0': head })
      const run = await waitFor('the tag run', async () => (await runs('gl-tags'))[0])
      const done = await finished(f.cp, 'gl-tags', run.pipelineExecutionId!)
      expect((await sourceOf('gl-tags', run.pipelineExecutionId!)).status).toBe('Succeeded')
      expect(done.artifactRevisions![0]!.revisionId).toBe(head)
      expect(run.trigger!.triggerDetail).toMatch(/v2\.0/)
      await glOutcomes(f, 'the tag push', pushOf('v2.0', { after: head }))
      expect(await runs('gl-tags')).toHaveLength(1)
      // Deleting the tag starts nothing.
      await glPush(f, { 'refs/tags/v2.0': null })
      await glOutcomes(f, 'the tag deletion', pushOf('v2.0', { deleted: true }))
      expect(await runs('gl-tags')).toHaveLength(1)
    })

    it('merge requests: open, reopen → OPEN; update with commits → UPDATED, without → nothing; merge, close → CLOSED', async () => {
      const names = ['gl-mr-open', 'gl-mr-updated', 'gl-mr-closed']
      const events = ['OPEN', 'UPDATED', 'CLOSED'] as const
      for (const [i, name] of names.entries())
        await pipeline(name, {
          pullRequest: [{ events: [events[i]!], branches: { includes: ['main'] } }],
        })
      const counts = async () => Promise.all(names.map(async (n) => (await runs(n)).length))
      const started = (all: EventOutcome[]) => names.filter((n) => outcomeFor(all, n)?.started)

      // open: only the OPEN pipeline, at the source branch's head.
      const head1 = await glCommit(f, 'feature/mr-a', { 'src/a.c': 'int a;\n' })
      const mr1 = await glOpenMr(f, 'feature/mr-a', 'main', 'A')
      expect(started(await glOutcomes(f, 'open', pullOf(mr1, 'OPEN')))).toEqual(['gl-mr-open'])
      const opened = (await runs('gl-mr-open'))[0]!
      expect(opened.trigger!.triggerType).toBe('WebhookV2')
      const openedDone = await finished(f.cp, 'gl-mr-open', opened.pipelineExecutionId!)
      expect(openedDone.artifactRevisions![0]!.revisionId).toBe(head1)

      // A push to its branch: update with oldrev → UPDATED, at the new head.
      const head2 = await glCommit(f, 'feature/mr-a', { 'src/a.c': 'int a2;\n' })
      expect(started(await glOutcomes(f, 'update', pullOf(mr1, 'UPDATED')))).toEqual([
        'gl-mr-updated',
      ])
      const updated = (await runs('gl-mr-updated'))[0]!
      const updatedDone = await finished(f.cp, 'gl-mr-updated', updated.pipelineExecutionId!)
      expect(updatedDone.artifactRevisions![0]!.revisionId).toBe(head2)
      const source = await sourceOf('gl-mr-updated', updated.pipelineExecutionId!)
      expect(source.status).toBe('Succeeded')
      expect(source.output!.outputVariables!['BranchName']).toBe('feature/mr-a')

      // A title edit (update without new commits): GitLab's update, no UPDATED.
      await f.sb.admin(
        `projects/${encodeURIComponent(PROJECT)}/merge_requests/${mr1}`,
        {
          user: 'alice',
          title: 'A, renamed',
        },
        'PUT',
      )

      // Closed without merging: CLOSED.
      await glMrAction(f, mr1, 'close')
      expect(started(await glOutcomes(f, 'close', pullOf(mr1, 'CLOSED', false)))).toEqual([
        'gl-mr-closed',
      ])
      // The edit came before the close: by now it is known to have started nothing.
      expect(await counts()).toEqual([1, 1, 1])

      // Another, merged: CLOSED as well.
      await glCommit(f, 'feature/mr-b', { 'src/b.c': 'int b;\n' })
      const mr2 = await glOpenMr(f, 'feature/mr-b', 'main', 'B')
      await glOutcomes(f, 'open B', pullOf(mr2, 'OPEN'))
      await glMrAction(f, mr2, 'merge')
      expect(started(await glOutcomes(f, 'merge', pullOf(mr2, 'CLOSED', true)))).toEqual([
        'gl-mr-closed',
      ])

      // A merge request into another branch matches no destination filter.
      await glCommit(f, 'develop', { 'dev.txt': '1\n' })
      await glCommit(f, 'feature/mr-c', { 'c.txt': '1\n' })
      const mr3 = await glOpenMr(f, 'feature/mr-c', 'develop', 'C')
      expect(started(await glOutcomes(f, 'open C', pullOf(mr3, 'OPEN')))).toEqual([])
      expect(await counts()).toEqual([2, 1, 2])

      // Reopened → OPEN, at the unchanged head.
      await glMrAction(f, mr1, 'reopen')
      expect(
        started(
          await glOutcomes(
            f,
            'reopen',
            (e) => pullOf(mr1, 'OPEN')(e) && e['title'] === 'A, renamed',
          ),
        ),
      ).toEqual(['gl-mr-open'])
      const reopened = (await runs('gl-mr-open'))[2]!
      const reopenedDone = await finished(f.cp, 'gl-mr-open', reopened.pipelineExecutionId!)
      expect(reopenedDone.artifactRevisions![0]!.revisionId).toBe(head2)
      expect(await counts()).toEqual([3, 1, 2])
    })
  })
}
