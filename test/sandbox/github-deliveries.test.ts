/**
 * The webhooks the sandbox GitHub delivers as it runs (installing, changing the selection,
 * pushing, pull requests, suspending, uninstalling) validate against GitHub's webhook schema for
 * their event and action (`@octokit/openapi-webhooks` subset in ../shared/spec/github).
 */
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  hookReceiver,
  seedGhWorld,
  startGhSandbox,
  type GhSandbox,
  type GhWorld,
} from '../helpers/github-sandbox.js'
import { webhookValidator } from '../helpers/webhook-schemas.js'

const SPEC = join(import.meta.dirname, '..', '..', '..', 'shared', 'spec', 'github')
const schemas = webhookValidator(join(SPEC, 'webhooks-api.github.com.subset.json'), 'gh-deliveries')

describe(
  'sandbox GitHub deliveries validate against the webhook schemas',
  { timeout: 120_000 },
  () => {
    let sb: GhSandbox
    let world: GhWorld
    let hooks: Awaited<ReturnType<typeof hookReceiver>>
    beforeAll(async () => {
      hooks = await hookReceiver()
      sb = await startGhSandbox()
      world = await seedGhWorld(sb, { webhookUrl: hooks.url })
    })
    afterAll(async () => {
      await sb?.stop()
      await hooks?.close()
    })

    it('sends schema-valid installation, push and pull_request deliveries', async () => {
      const i = world.installationId
      await sb.admin(`installations/${i}/repositories`, { add: ['secret'] }, 'PUT')
      await sb.admin(`installations/${i}/repositories`, { remove: ['secret'] }, 'PUT')
      await sb.admin('repositories/acme/app/commits', {
        message: 'Main',
        files: { 'm.txt': 'm\n' },
        author: 'alice',
      })
      await sb.admin('repositories/acme/app/commits', {
        branch: 'topic',
        message: 'Topic',
        files: { 't.txt': 't\n' },
      })
      await sb.admin('pulls', {
        owner: 'acme',
        repo: 'app',
        title: 'Topic',
        head: 'topic',
        user: 'alice',
      })
      await sb.admin('repositories/acme/app/commits', {
        branch: 'topic',
        message: 'More',
        files: { 'u.txt': 'u\n' },
      })
      await sb.admin('pulls/acme/app/1/merge', { user: 'alice' })
      await sb.admin(`installations/${i}/suspend`, {})
      await sb.admin(`installations/${i}/unsuspend`, {})
      await sb.admin(`installations/${i}`, undefined, 'DELETE')
      await sb.settled()
      const names = new Set<string>()
      for (const d of hooks.got) {
        const event = String(d.headers['x-github-event'])
        const body = JSON.parse(d.body.toString('utf8')) as { action?: string }
        const name = event === 'push' ? 'push' : `${event.replace(/_/g, '-')}-${body.action}`
        names.add(name)
        expect(schemas.errors(name, body), name).toEqual([])
      }
      for (const n of [
        'installation-created',
        'installation-repositories-added',
        'installation-repositories-removed',
        'push',
        'pull-request-opened',
        'pull-request-synchronize',
        'pull-request-closed',
        'installation-suspend',
        'installation-unsuspend',
        'installation-deleted',
      ])
        expect([...names], n).toContain(n)
    })
  },
)
