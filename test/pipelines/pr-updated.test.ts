/**
 * A pipeline with both a push trigger and a pull-request UPDATED trigger, on the sandbox
 * Bitbucket: a push to an open pull request's branch delivers repo:push and pullrequest:updated,
 * and each event starts its own execution, as CodePipeline evaluates each event on its own; a
 * title edit alone (pullrequest:updated, no new commit) starts one at the same head; a delivery
 * sent again starts nothing (README, Triggers).
 */
import { CreatePipelineCommand, type CodePipelineClient } from '@aws-sdk/client-codepipeline'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ConnectFixture } from '../helpers/connect.js'
import { testEngines } from '../helpers/engines.js'
import { oauthCredentials, sandboxProvider } from '../helpers/bitbucket.js'
import {
  declaration,
  executions,
  startPipelineFixture,
  stopPipelineFixture,
  waitFor,
} from '../helpers/pipelines.js'

for (const engine of testEngines()) {
  describe(`push and pull-request triggers together [${engine}]`, () => {
    let f: ConnectFixture
    let cp: CodePipelineClient
    let arn: string
    let role: string
    beforeAll(async () => {
      ;({ f, cp, arn, role } = await startPipelineFixture(engine))
    })
    afterAll(() => stopPipelineFixture({ f, cp }))

    const revision = (x: { sourceRevisions?: { revisionId?: string }[] }) =>
      x.sourceRevisions?.[0]?.revisionId
    /** The webhook-started executions, oldest first, once there are `n` and no more follow. */
    async function webhookRuns(n: number) {
      const runs = await waitFor(`${n} webhook executions`, async () => {
        const e = (await executions(cp, 'both')).filter(
          (x) => x.trigger?.triggerType === 'WebhookV2',
        )
        // Once their source actions have run, they name the revision they fetched.
        return e.length >= n && e.every((x) => revision(x)) ? e : undefined
      })
      await f.sb.settled()
      await new Promise((r) => setTimeout(r, 1500))
      const again = (await executions(cp, 'both')).filter(
        (x) => x.trigger?.triggerType === 'WebhookV2',
      )
      expect(again.length, JSON.stringify(again.map((x) => x.trigger))).toBe(runs.length)
      return [...runs].reverse()
    }

    it('starts once per event: the push, the pull-request update, a title edit; not a resend', async () => {
      await cp.send(
        new CreatePipelineCommand({
          pipeline: declaration({
            name: 'both',
            roleArn: role,
            connectionArn: arn,
            commands: ['true'],
            triggers: [
              {
                providerType: 'CodeStarSourceConnection',
                gitConfiguration: {
                  sourceActionName: 'Source',
                  push: [{ branches: { includes: ['feature/**'] } }],
                  pullRequest: [{ events: ['UPDATED'], branches: { includes: ['main'] } }],
                },
              },
            ],
          }),
        }),
      )
      const commit = (files: Record<string, string>) =>
        f.sb.admin<{ commit: string }>('repositories/acme/app/commits', {
          branch: 'feature/both',
          author: 'alice',
          files,
        })
      const first = await commit({ 'b.txt': '1' })
      expect((await webhookRuns(1)).map(revision)).toEqual([first.commit])

      const alice = await oauthCredentials(f.sb, sandboxProvider(f.sb), f.world.alice)
      const call = (path: string, method: string, body: unknown) =>
        fetch(`${f.sb.apiUrl}/repositories/acme/app/pullrequests${path}`, {
          method,
          headers: {
            authorization: `Bearer ${alice.accessToken}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify(body),
        })
      const opened = await call('', 'POST', {
        title: 'Both',
        source: { branch: { name: 'feature/both' } },
        destination: { branch: { name: 'main' } },
      })
      expect(opened.status).toBe(201)
      const pr = (await opened.json()) as { id: number }
      // OPEN is not in the filter: nothing more.
      expect(await webhookRuns(1)).toHaveLength(1)

      // A push to the pull request's branch: two events, two executions of the same commit.
      const second = await commit({ 'b.txt': '2' })
      const afterPush = await webhookRuns(3)
      expect(afterPush.slice(1).map(revision)).toEqual([second.commit, second.commit])
      expect(
        afterPush
          .slice(1)
          .map((x) => x.trigger!.triggerDetail)
          .sort(),
      ).toEqual([
        `acme/app branch feature/both at ${second.commit}`,
        `acme/app pull request feature/both at ${second.commit}`,
      ])

      // A title edit alone starts one more, at the same head.
      expect((await call(`/${pr.id}`, 'PUT', { title: 'Both, renamed' })).status).toBe(200)
      const afterEdit = await webhookRuns(4)
      expect(revision(afterEdit[3]!)).toBe(second.commit)

      // Bitbucket's "Resend request" of that delivery (same X-Request-UUID) starts nothing.
      const { deliveries } = await f.sb.admin<{ deliveries: { id: string; event: string }[] }>(
        'deliveries',
      )
      const last = deliveries.filter((d) => d.event === 'pullrequest:updated').at(-1)!
      await f.sb.admin(`deliveries/${encodeURIComponent(last.id)}/resend`, {})
      expect(await webhookRuns(4)).toHaveLength(4)
    })
  })
}
