/**
 * A pipeline's event log in the console shows other pipelines only to a viewer who may read them
 * (issue 11, item 12): one push starts two pipelines on the same repository; an IAM user allowed
 * only one of them reads its page over HTTP and learns neither the other's name nor its execution
 * id, only that a pipeline they cannot view was also there.
 */
import { CreatePipelineCommand, type CodePipelineClient } from '@aws-sdk/client-codepipeline'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Credentials } from '../helpers/client.js'
import type { ConnectFixture } from '../helpers/connect.js'
import { policy, userWithPolicy } from '../helpers/iam.js'
import {
  declaration,
  executions,
  startPipelineFixture,
  stopPipelineFixture,
  waitFor,
} from '../helpers/pipelines.js'

async function signIn(base: string, creds: Credentials): Promise<string> {
  const r = await fetch(`${base}/console/signin`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...creds, next: '/console/pipelines' }),
  })
  await r.body?.cancel()
  expect(r.status).toBe(303)
  return r.headers.getSetCookie()[0]!.split(';')[0]!
}

async function pageOf(base: string, cookie: string, path: string) {
  const r = await fetch(`${base}${path}`, { headers: { cookie }, redirect: 'manual' })
  return { status: r.status, html: await r.text() }
}

const ARN = (name: string) => `arn:aws:codepipeline:us-east-1:000000000000:${name}`
const READ_ONE = ['codepipeline:GetPipeline', 'codepipeline:GetPipelineState']

describe('the event log shows only pipelines the viewer may read', () => {
  let f: ConnectFixture
  let cp: CodePipelineClient
  let hiddenRuns: string[]
  let shownRun: string
  beforeAll(async () => {
    let arn: string
    let role: string
    ;({ f, cp, arn, role } = await startPipelineFixture('sqlite'))
    for (const name of ['shown', 'secret-pipe'])
      await cp.send(
        new CreatePipelineCommand({
          pipeline: declaration({ name, roleArn: role, connectionArn: arn }),
        }),
      )
    await f.sb.admin('repositories/acme/app/commits', {
      branch: 'main',
      message: 'A push both pipelines watch',
      author: 'alice',
      files: { 'src/main.c': 'int main(){return 3;}\n' },
    })
    const pushed = async (name: string) =>
      waitFor(`the push run of ${name}`, async () =>
        (await executions(cp, name)).find((e) => e.trigger?.triggerType === 'Webhook'),
      )
    shownRun = (await pushed('shown')).pipelineExecutionId!
    await pushed('secret-pipe')
    hiddenRuns = (await executions(cp, 'secret-pipe')).map((e) => e.pipelineExecutionId!)
    await waitFor('the event outcome', async () => {
      const e = await f.server.store.pipelines.events.recent('000000000000', 'acme/app', 1)
      return e[0]?.processedAt ? true : undefined
    })
  }, 60_000)
  afterAll(async () => {
    await stopPipelineFixture({ f, cp })
  })

  it('shows the root both pipelines the push started', async () => {
    const root = await signIn(f.server.url, f.server.credentials)
    const { status, html } = await pageOf(f.server.url, root, '/console/pipeline?name=shown')
    expect(status).toBe(200)
    expect(html).toMatch(/<strong>secret-pipe<\/strong>: started/)
    expect(html).toContain(encodeURIComponent(hiddenRuns[0]!))
    expect(html).not.toContain('you cannot view')
  })

  it('hides the other pipeline’s name and execution ids from a user allowed only this one', async () => {
    const creds = await userWithPolicy(
      f.iam,
      'one-pipeline',
      policy({
        Effect: 'Allow',
        Action: [...READ_ONE, 'codepipeline:ListPipelineExecutions'],
        Resource: ARN('shown'),
      }),
    )
    const cookie = await signIn(f.server.url, creds)
    const { status, html } = await pageOf(f.server.url, cookie, '/console/pipeline?name=shown')
    expect(status).toBe(200)
    expect(html).toMatch(/<strong>shown<\/strong>: started/)
    expect(html).toContain(encodeURIComponent(shownRun))
    expect(html).toContain('a pipeline you cannot view')
    expect(html).not.toContain('secret-pipe')
    for (const id of hiddenRuns) {
      expect(html).not.toContain(id)
      expect(html).not.toContain(id.slice(0, 12))
    }
    // And the other pipeline's own page stays refused.
    const other = await pageOf(f.server.url, cookie, '/console/pipeline?name=secret-pipe')
    expect(other.status).toBeGreaterThanOrEqual(400)
    expect(other.status).toBeLessThan(500)
    expect(other.html).toMatch(/AccessDeniedException/)
  })

  it('needs ListPipelineExecutions on the other pipeline as well, not only GetPipeline', async () => {
    const creds = await userWithPolicy(
      f.iam,
      'half-reader',
      policy(
        {
          Effect: 'Allow',
          Action: [...READ_ONE, 'codepipeline:ListPipelineExecutions'],
          Resource: ARN('shown'),
        },
        { Effect: 'Allow', Action: 'codepipeline:GetPipeline', Resource: ARN('secret-pipe') },
      ),
    )
    const cookie = await signIn(f.server.url, creds)
    const { html } = await pageOf(f.server.url, cookie, '/console/pipeline?name=shown')
    expect(html).toContain('a pipeline you cannot view')
    expect(html).not.toContain('secret-pipe')
    for (const id of hiddenRuns) expect(html).not.toContain(id.slice(0, 12))
  })
})
