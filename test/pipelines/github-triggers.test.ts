/**
 * The trigger matrix for a `ProviderType GitHub` source on the sandbox GitHub, whose app webhooks
 * reach Junction's `/webhooks/github`: branch includes/excludes, tags, file paths, branch deletion,
 * and pull requests (`opened`/`reopened` → OPEN, `synchronize`/`edited` → UPDATED, `closed` merged
 * or not → CLOSED).
 * "Nothing started" is asserted only after a positive barrier: the event's outcome is recorded
 * (or a later matching event's execution is the only one).
 */
import {
  CreatePipelineCommand,
  ListActionExecutionsCommand,
  type PipelineDeclaration,
} from '@aws-sdk/client-codepipeline'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { testEngines } from '../helpers/engines.js'
import {
  ghCommit,
  ghGitPush,
  ghOutcomes,
  pullOf,
  pushOf,
  startGhPipelineFixture,
  stopGhPipelineFixture,
  type GhPipelineFixture,
} from '../helpers/github-pipelines.js'
import { declaration, executions, finished, waitFor } from '../helpers/pipelines.js'

vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 })

type Git = NonNullable<NonNullable<PipelineDeclaration['triggers']>[number]['gitConfiguration']>

for (const engine of testEngines()) {
  describe(`GitHub source triggers [${engine}]`, () => {
    let f: GhPipelineFixture
    beforeAll(async () => {
      f = await startGhPipelineFixture(engine)
    })
    afterAll(() => stopGhPipelineFixture(f))

    /** A pipeline on acme/app with these trigger filters; its CreatePipeline run finished. */
    const pipeline = async (name: string, git: Omit<Git, 'sourceActionName'>) => {
      await f.cp.send(
        new CreatePipelineCommand({
          pipeline: declaration({
            name,
            roleArn: f.role,
            connectionArn: f.arn,
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
    const outcomeFor = (all: { pipeline: string; started?: string; reason: string }[], p: string) =>
      all.find((o) => o.pipeline === p)

    it('a push starts the pipelines whose branch filters match, at the pushed commit', async () => {
      await pipeline('gh-branches', {
        push: [{ branches: { includes: ['release/**', 'main'], excludes: ['release/skip-*'] } }],
      })
      // Excluded, then not included: recorded with the reason, nothing started.
      const skipped = await ghCommit(f, 'release/skip-1', { 'r.txt': '1\n' })
      const o1 = outcomeFor(
        await ghOutcomes(f, 'the excluded push', pushOf('release/skip-1', { after: skipped })),
        'gh-branches',
      )
      expect(o1?.started).toBeUndefined()
      expect(o1?.reason).toMatch(/release\/skip-1/)
      const other = await ghCommit(f, 'topic', { 't.txt': '1\n' })
      const o2 = outcomeFor(
        await ghOutcomes(f, 'the unmatched push', pushOf('topic', { after: other })),
        'gh-branches',
      )
      expect(o2?.started).toBeUndefined()
      expect(o2?.reason).toMatch(/branch 'topic' is not included/)
      expect(await runs('gh-branches')).toHaveLength(0)
      // A matching one starts, with the pushed commit.
      const pushed = await ghCommit(f, 'release/1.0', { 'r.txt': '2\n' })
      const run = await waitFor('the matching run', async () => (await runs('gh-branches'))[0])
      const done = await finished(f.cp, 'gh-branches', run.pipelineExecutionId!)
      expect(done.trigger!.triggerType).toBe('WebhookV2')
      expect(done.trigger!.triggerDetail).toContain(pushed)
      expect(done.artifactRevisions![0]!.revisionId).toBe(pushed)
      // The positive barrier: the later matching push's execution is the only one.
      expect(await runs('gh-branches')).toHaveLength(1)
    })

    it('a pipeline without triggers (DetectChanges) starts on its branch with trigger Webhook', async () => {
      await f.cp.send(
        new CreatePipelineCommand({
          pipeline: declaration({ name: 'gh-plain', roleArn: f.role, connectionArn: f.arn }),
        }),
      )
      await waitFor('the creation run', async () =>
        (await executions(f.cp, 'gh-plain')).length > 0 ? true : undefined,
      )
      const elsewhere = await ghCommit(f, 'topic', { 't.txt': '2\n' })
      const pushed = await ghCommit(f, 'main', { 'm.txt': '1\n' })
      const run = await waitFor('the main run', async () => (await runs('gh-plain'))[0])
      expect(run.trigger!.triggerType).toBe('Webhook')
      const done = await finished(f.cp, 'gh-plain', run.pipelineExecutionId!)
      expect(done.artifactRevisions![0]!.revisionId).toBe(pushed)
      const o = outcomeFor(
        await ghOutcomes(f, 'the topic push', pushOf('topic', { after: elsewhere })),
        'gh-plain',
      )
      expect(o?.started).toBeUndefined()
      expect(await runs('gh-plain')).toHaveLength(1)
    })

    it('tag pushes start pipelines with matching tag filters, at the tagged commit', async () => {
      await pipeline('gh-tags', { push: [{ tags: { includes: ['v*'], excludes: ['v*-rc*'] } }] })
      const head = await ghCommit(f, 'main', { 'tagged.txt': '1\n' })
      await ghGitPush(f, `${head}:refs/tags/v2.0-rc1`)
      const rc = outcomeFor(
        await ghOutcomes(f, 'the rc tag push', pushOf('v2.0-rc1', { after: head })),
        'gh-tags',
      )
      expect(rc?.started).toBeUndefined()
      // A branch push is no tag: nothing for a tags-only filter.
      const o = outcomeFor(
        await ghOutcomes(f, 'the main push', pushOf('main', { after: head })),
        'gh-tags',
      )
      expect(o?.started).toBeUndefined()
      await ghGitPush(f, `${head}:refs/tags/v2.0`)
      const run = await waitFor('the tag run', async () => (await runs('gh-tags'))[0])
      const done = await finished(f.cp, 'gh-tags', run.pipelineExecutionId!)
      expect(done.artifactRevisions![0]!.revisionId).toBe(head)
      expect(run.trigger!.triggerDetail).toMatch(/v2\.0/)
      expect(await runs('gh-tags')).toHaveLength(1)
    })

    it('file paths: a push of only excluded files starts nothing, an included file starts it', async () => {
      await pipeline('gh-paths', {
        push: [
          {
            branches: { includes: ['main'] },
            filePaths: { includes: ['src/**'], excludes: ['**.md', 'src/generated/**'] },
          },
        ],
      })
      const excluded = await ghCommit(f, 'main', {
        'src/NOTES.md': 'n\n',
        'src/generated/api.c': 'int g;\n',
      })
      const o1 = outcomeFor(
        await ghOutcomes(f, 'the excluded push', pushOf('main', { after: excluded })),
        'gh-paths',
      )
      expect(o1?.started).toBeUndefined()
      expect(o1?.reason).toMatch(/excluded by/)
      const outside = await ghCommit(f, 'main', { 'README.md': 'readme v2\n' })
      const o2 = outcomeFor(
        await ghOutcomes(f, 'the outside push', pushOf('main', { after: outside })),
        'gh-paths',
      )
      expect(o2?.started).toBeUndefined()
      expect(await runs('gh-paths')).toHaveLength(0)
      const included = await ghCommit(f, 'main', {
        'src/generated/api.c': 'int g2;\n',
        'src/main.c': 'int main(void) { return 0; }\n',
      })
      const o3 = outcomeFor(
        await ghOutcomes(f, 'the included push', pushOf('main', { after: included })),
        'gh-paths',
      )
      const all = await runs('gh-paths')
      expect(all).toHaveLength(1)
      expect(o3?.started).toBe(all[0]!.pipelineExecutionId)
      const done = await finished(f.cp, 'gh-paths', all[0]!.pipelineExecutionId!)
      expect(done.artifactRevisions![0]!.revisionId).toBe(included)
    })

    it('deleting a branch starts nothing', async () => {
      await pipeline('gh-delete', { push: [{ branches: { includes: ['doomed/**'] } }] })
      const made = await ghCommit(f, 'doomed/a', { 'd.txt': '1\n' })
      const first = await waitFor('the creation push run', async () => (await runs('gh-delete'))[0])
      expect(first.sourceRevisions?.[0]?.revisionId ?? made).toBe(made)
      await ghGitPush(f, ':refs/heads/doomed/a')
      const o = outcomeFor(
        await ghOutcomes(f, 'the deletion', pushOf('doomed/a', { deleted: true })),
        'gh-delete',
      )
      expect(o?.started).toBeUndefined()
      // A later matching push's execution is the only other one.
      const later = await ghCommit(f, 'doomed/b', { 'd.txt': '2\n' })
      await waitFor('the later run', async () =>
        (await runs('gh-delete')).length >= 2 ? true : undefined,
      )
      await ghOutcomes(f, 'the later push', pushOf('doomed/b', { after: later }))
      const all = await runs('gh-delete')
      expect(all).toHaveLength(2)
      const done = await finished(f.cp, 'gh-delete', all[1]!.pipelineExecutionId!)
      expect(done.artifactRevisions![0]!.revisionId).toBe(later)
    })

    it('pull requests: opened, reopened → OPEN; synchronize, edited → UPDATED; closed merged or not → CLOSED', async () => {
      await pipeline('gh-pr-open', {
        pullRequest: [{ events: ['OPEN'], branches: { includes: ['main'] } }],
      })
      await pipeline('gh-pr-updated', {
        pullRequest: [{ events: ['UPDATED'], branches: { includes: ['main'] } }],
      })
      await pipeline('gh-pr-closed', {
        pullRequest: [{ events: ['CLOSED'], branches: { includes: ['main'] } }],
      })
      const names = ['gh-pr-open', 'gh-pr-updated', 'gh-pr-closed']
      const counts = async () => Promise.all(names.map(async (n) => (await runs(n)).length))
      const started = (all: { pipeline: string; started?: string; reason: string }[]) =>
        names.filter((n) => outcomeFor(all, n)?.started)

      // opened: only the OPEN pipeline, at the source branch's head.
      const head1 = await ghCommit(f, 'feature/pr-a', { 'src/a.c': 'int a;\n' })
      const pr1 = await f.sb.admin<{ number: number }>('pulls', {
        owner: 'acme',
        repo: 'app',
        title: 'A',
        head: 'feature/pr-a',
        base: 'main',
        user: 'alice',
      })
      expect(started(await ghOutcomes(f, 'opened', pullOf(pr1.number, 'OPEN')))).toEqual([
        'gh-pr-open',
      ])
      const opened = (await runs('gh-pr-open'))[0]!
      expect(opened.trigger!.triggerType).toBe('WebhookV2')
      const openedDone = await finished(f.cp, 'gh-pr-open', opened.pipelineExecutionId!)
      expect(openedDone.artifactRevisions![0]!.revisionId).toBe(head1)

      // A push to its branch: synchronize → UPDATED, at the new head.
      const head2 = await ghCommit(f, 'feature/pr-a', { 'src/a.c': 'int a2;\n' })
      expect(started(await ghOutcomes(f, 'synchronize', pullOf(pr1.number, 'UPDATED')))).toEqual([
        'gh-pr-updated',
      ])
      const updated = (await runs('gh-pr-updated'))[0]!
      const updatedDone = await finished(f.cp, 'gh-pr-updated', updated.pipelineExecutionId!)
      expect(updatedDone.artifactRevisions![0]!.revisionId).toBe(head2)

      // Closed without merging: CLOSED.
      await f.sb.admin(`pulls/acme/app/${pr1.number}/close`, { user: 'alice' })
      expect(
        started(await ghOutcomes(f, 'closed unmerged', pullOf(pr1.number, 'CLOSED', false))),
      ).toEqual(['gh-pr-closed'])

      // Another, merged: CLOSED as well (CodePipeline's CLOSED is merged or declined).
      await ghCommit(f, 'feature/pr-b', { 'src/b.c': 'int b;\n' })
      const pr2 = await f.sb.admin<{ number: number }>('pulls', {
        owner: 'acme',
        repo: 'app',
        title: 'B',
        head: 'feature/pr-b',
        base: 'main',
        user: 'alice',
      })
      await ghOutcomes(f, 'opened B', pullOf(pr2.number, 'OPEN'))
      await f.sb.admin(`pulls/acme/app/${pr2.number}/merge`, { user: 'alice' })
      expect(
        started(await ghOutcomes(f, 'closed merged', pullOf(pr2.number, 'CLOSED', true))),
      ).toEqual(['gh-pr-closed'])
      // A pull request into another branch matches no destination filter.
      await ghCommit(f, 'develop', { 'dev.txt': '1\n' })
      await ghCommit(f, 'feature/pr-c', { 'c.txt': '1\n' })
      const pr3 = await f.sb.admin<{ number: number }>('pulls', {
        owner: 'acme',
        repo: 'app',
        title: 'C',
        head: 'feature/pr-c',
        base: 'develop',
        user: 'alice',
      })
      const o = await ghOutcomes(f, 'opened C', pullOf(pr3.number, 'OPEN'))
      expect(started(o)).toEqual([])
      // Their triggers watch pull requests into main: the index does not even consider them.
      expect(outcomeFor(o, 'gh-pr-open')).toBeUndefined()
      expect(await counts()).toEqual([2, 1, 2])

      // Reopened → OPEN; a title edit alone (edited) → UPDATED, at the unchanged head.
      await f.sb.admin(`pulls/acme/app/${pr1.number}/reopen`, { user: 'alice' })
      await waitFor('the reopened run', async () =>
        (await runs('gh-pr-open')).length === 3 ? true : undefined,
      )
      await f.sb.admin(`pulls/acme/app/${pr1.number}/update`, {
        user: 'alice',
        title: 'A, renamed',
      })
      const edited = await waitFor('the edited run', async () => (await runs('gh-pr-updated'))[1])
      const editedDone = await finished(f.cp, 'gh-pr-updated', edited.pipelineExecutionId!)
      expect(editedDone.artifactRevisions![0]!.revisionId).toBe(head2)
      const source = (
        await f.cp.send(
          new ListActionExecutionsCommand({
            pipelineName: 'gh-pr-updated',
            filter: { pipelineExecutionId: edited.pipelineExecutionId },
          }),
        )
      ).actionExecutionDetails!.find((a) => a.actionName === 'Source')!
      // The run's branch is the pull request's source branch.
      expect(source.output!.outputVariables!['BranchName']).toBe('feature/pr-a')
      await ghOutcomes(
        f,
        'edited',
        (e) => pullOf(pr1.number, 'UPDATED')(e) && e['title'] === 'A, renamed',
      )
      expect(await counts()).toEqual([3, 2, 2])
    })
  })
}
