/**
 * The console's pipeline pages in Chromium: the list, a pipeline with its stages, executions and
 * event log (what a push started and why another pipeline did not match), an execution with its
 * actions and logs, starting at a chosen commit, stopping, and a denial for a user without rights.
 */
import { CreatePipelineCommand, type CodePipelineClient } from '@aws-sdk/client-codepipeline'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  launchChromium,
  noHorizontalScroll,
  screenshot,
  unlabelledControls,
} from '../helpers/browser-chromium.js'
import type { Credentials } from '../helpers/client.js'
import { stopConnectFixture, type ConnectFixture } from '../helpers/connect.js'
import { policy, userWithPolicy } from '../helpers/iam.js'
import {
  declaration,
  startPipelineFixture,
  executions,
  finished,
  waitFor,
} from '../helpers/pipelines.js'

const text = async (p: Page, selector: string) =>
  ((await p.locator(selector).first().textContent()) ?? '').trim()

async function signIn(p: Page, base: string, creds: Credentials) {
  await p.goto(`${base}/console/pipelines`)
  await p.getByLabel('Access key ID').fill(creds.accessKeyId)
  await p.getByLabel('Secret access key').fill(creds.secretAccessKey)
  await p.getByRole('button', { name: 'Sign in' }).click()
  await p.waitForURL(`${base}/console/pipelines`)
}

describe('pipeline pages in Chromium', () => {
  let f: ConnectFixture
  let cp: CodePipelineClient
  let browser: Browser
  let page: Page
  let arn: string
  let role: string
  const url = (path: string) => `${f.server.url}${path}`
  beforeAll(async () => {
    ;({ f, cp, arn, role } = await startPipelineFixture('sqlite', { 'enable-commands': true }))
    browser = await launchChromium()
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage()
  })
  afterAll(async () => {
    cp?.destroy()
    await browser?.close()
    await stopConnectFixture(f)
  })

  it('shows the empty state, then the pipelines with their latest execution', async () => {
    await signIn(page, f.server.url, f.server.credentials)
    expect(await text(page, 'h2')).toBe('No pipelines yet')
    expect(await page.getByRole('link', { name: 'Pipelines' }).getAttribute('aria-current')).toBe(
      'page',
    )
    await cp.send(
      new CreatePipelineCommand({
        pipeline: declaration({
          name: 'web',
          roleArn: role,
          connectionArn: arn,
          commands: ['echo building #{SourceVariables.CommitId}', 'sleep #{variables.DELAY}'],
          variables: [{ name: 'DELAY', defaultValue: '0' }],
        }),
      }),
    )
    await cp.send(
      new CreatePipelineCommand({
        pipeline: declaration({
          name: 'docs-only',
          roleArn: role,
          connectionArn: arn,
          triggers: [
            {
              providerType: 'CodeStarSourceConnection',
              gitConfiguration: {
                sourceActionName: 'Source',
                push: [{ branches: { includes: ['main'] }, filePaths: { includes: ['docs/**'] } }],
              },
            },
          ],
        }),
      }),
    )
    for (const n of ['web', 'docs-only']) {
      const [first] = await waitFor(`the first run of ${n}`, async () => {
        const e = await executions(cp, n)
        return e.length ? e : undefined
      })
      await finished(cp, n, first!.pipelineExecutionId!)
    }
    await page.reload()
    const rows = page.locator('table.list tbody tr')
    expect(await rows.count()).toBe(2)
    expect(await rows.nth(1).textContent()).toMatch(/web\s*Succeeded/)
    expect(await unlabelledControls(page)).toEqual([])
    await screenshot(page, '20-pipelines')
  })

  it('shows a push in the event log: what it started, and why the other pipeline did not', async () => {
    const pushed = await f.sb.admin<{ commit: string }>('repositories/acme/app/commits', {
      branch: 'main',
      message: 'Change the code',
      author: 'alice',
      files: { 'src/main.c': 'int main(){return 2;}\n' },
    })
    const run = await waitFor('the push run', async () =>
      (await executions(cp, 'web')).find((e) => e.trigger?.triggerType === 'Webhook'),
    )
    await finished(cp, 'web', run.pipelineExecutionId!)
    await waitFor('the event outcome', async () => {
      const e = await f.server.store.pipelines.events.recent('000000000000', 'acme/app', 1)
      return e[0]?.processedAt ? true : undefined
    })
    await page.getByRole('link', { name: 'web' }).click()
    await page.waitForURL(/\/console\/pipeline\?name=web/)
    expect(await text(page, 'h1')).toBe('web')
    expect(await page.textContent('#stage-Source')).toMatch(/Source\s*Succeeded/)
    const log = page
      .locator('section', { hasText: 'Build' })
      .getByRole('link', { name: 'View log' })
    expect(await log.count()).toBe(1)
    const events = await page.locator('h2:has-text("Event log") + .card').textContent()
    expect(events).toMatch(/acme\/app: push to main/)
    expect(events).toMatch(/web: started/)
    expect(events).toMatch(
      /docs-only: not started — push filter 1: none of the 1 changed file passes/,
    )
    expect(await page.textContent('h2:has-text("Executions") + .card')).toContain(
      pushed.commit.slice(0, 12),
    )
    expect(await noHorizontalScroll(page)).toBe(true)
    await screenshot(page, '21-pipeline')
    // The log of the latest build.
    const href = (await log.getAttribute('href'))!
    const logText = await (await fetch(href)).text()
    expect(logText).toContain(`building ${pushed.commit}`)
  })

  it('starts at a chosen commit, shows the execution and its actions, and stops a long one', async () => {
    await page.getByLabel(/Commit/).fill(f.world.commits.first)
    await page.getByRole('button', { name: 'Start execution' }).click()
    await page.waitForURL(/\/console\/execution\?pipeline=web&id=/)
    expect(await text(page, '.flash')).toMatch(/Execution started/)
    const id = new URL(page.url()).searchParams.get('id')!
    await finished(cp, 'web', id)
    await page.reload()
    expect(await text(page, 'h1')).toMatch(/Succeeded/)
    expect(await page.textContent('dl')).toContain(f.world.commits.first)
    // The revision summary is CodePipeline's JSON; the console shows the commit message.
    expect(await page.textContent('dl')).toMatch(/SourceArtifact: [0-9a-f]{40} Initial commit/)
    expect(await page.textContent('dl')).not.toContain('ProviderType')
    expect(await page.textContent('dl')).toMatch(/StartPipelineExecution/)
    const actions = page.locator('h2:has-text("Actions") + .card table tbody tr')
    expect(await actions.count()).toBe(2)
    expect(await actions.first().textContent()).toMatch(/Source\s*Source\s*Succeeded/)
    await screenshot(page, '22-execution')
    // A long run, stopped from the console with abandon.
    const long = await cp.send(
      new (await import('@aws-sdk/client-codepipeline')).StartPipelineExecutionCommand({
        name: 'web',
        variables: [{ name: 'DELAY', value: '60' }],
      }),
    )
    await page.goto(
      url(`/console/execution?pipeline=web&id=${encodeURIComponent(long.pipelineExecutionId!)}`),
    )
    await page.getByLabel('Abandon running actions').check()
    await page.getByLabel(/Reason/).fill('wrong branch')
    await page.getByRole('button', { name: 'Stop execution' }).click()
    await page.waitForURL(/id=/)
    expect(await text(page, '.flash')).toMatch(/Stopping the execution/)
    const stopped = await finished(cp, 'web', long.pipelineExecutionId!)
    expect(stopped.status).toBe('Stopped')
    await page.reload()
    expect(await text(page, 'h1')).toMatch(/Stopped/)
    expect(await page.getByRole('button', { name: 'Stop execution' }).count()).toBe(0)
  })

  it('shows a user without pipeline rights the denial, not the pipeline', async () => {
    const creds = await userWithPolicy(
      f.iam,
      'viewer',
      policy({ Effect: 'Allow', Action: 'codepipeline:ListPipelines', Resource: '*' }),
    )
    const ctx = await browser.newContext({ viewport: { width: 390, height: 800 } })
    const p = await ctx.newPage()
    await signIn(p, f.server.url, creds)
    expect(await p.textContent('main')).toMatch(/web/)
    await p.goto(url('/console/pipeline?name=web'))
    expect(await text(p, 'h1')).toBe('AccessDeniedException')
    expect(await p.textContent('main')).toMatch(/codepipeline:GetPipeline/)
    expect(await noHorizontalScroll(p)).toBe(true)
    await screenshot(p, '23-pipeline-denied-mobile')
    await ctx.close()
  })
})
