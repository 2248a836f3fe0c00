/**
 * The GitHub adapter against the sandbox GitHub, as github.com and as GitHub Enterprise Server
 * (`/api/v3`): the provider contract with an app installation credential (installation tokens
 * minted per use with the app's key), the app's one webhook instead of per-repository ones.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { GitHubProvider } from '../../src/providers/github/github-provider.js'
import type { RawWebhook } from '../../src/providers/provider.js'
import { startGhSandbox } from '../helpers/github-sandbox.js'
import { runProviderContract, type ContractFixture } from './contract.js'

async function fixture(enterprise: boolean): Promise<ContractFixture & { stop(): Promise<void> }> {
  const received: RawWebhook[] = []
  const sink = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) })
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r))
  const sb = await startGhSandbox({ enterprise })
  await sb.admin('users', {
    username: 'alice',
    password: 'alice-pw',
    name: 'Alice A',
    email: 'alice@example.com',
  })
  await sb.admin('users', { username: 'bob', password: 'bob-pw' })
  await sb.admin('orgs', { login: 'acme', admins: ['alice'] })
  await sb.admin('orgs', { login: 'stranger', admins: ['bob'] })
  const first = await sb.admin<{ head: string }>('repositories', {
    owner: 'acme',
    name: 'app',
    files: { 'README.md': '# app\n', 'src/main.c': 'int main;\n', 'docs/old.md': 'old\n' },
  })
  const second = await sb.admin<{ sha: string }>('repositories/acme/app/commits', {
    message: 'Second commit',
    files: { 'src/main.c': 'int main(void);\n', 'src/new.c': 'new\n', 'docs/old.md': null },
    author: 'alice',
  })
  await sb.admin('repositories', { owner: 'stranger', name: 'hidden', files: { 'h.txt': 'h\n' } })
  await sb.admin('repositories', { owner: 'acme', name: 'lib', files: { 'lib.txt': 'lib\n' } })
  const app = await sb.admin<{ id: number; slug: string; privateKey: string }>('apps', {
    name: 'Junction Contract',
    owner: 'alice',
    webhookUrl: `http://127.0.0.1:${(sink.address() as AddressInfo).port}/hook`,
    webhookSecret: 'contract-secret',
  })
  const inst = await sb.admin<{ id: number }>('installations', {
    app: app.slug,
    account: 'acme',
    repositories: ['app', 'lib'],
  })
  const provider = new GitHubProvider({
    type: enterprise ? 'GitHubEnterpriseServer' : 'GitHub',
    endpoints: { webUrl: sb.url, apiUrl: enterprise ? `${sb.url}/api/v3` : sb.url },
    app: {
      clientId: '',
      clientSecret: '',
      callbackUrl: 'http://127.0.0.1:9/cb',
      appId: String(app.id),
      slug: app.slug,
      privateKey: app.privateKey,
      webhookSecret: 'contract-secret',
    },
  })
  return {
    provider,
    credentials: { kind: 'github-installation', installationId: String(inst.id), accessToken: '' },
    target: 'acme',
    repository: 'acme/app',
    commits: { first: first.head, second: second.sha },
    changes: [
      { path: 'src/main.c', status: 'modified' },
      { path: 'src/new.c', status: 'added' },
      { path: 'docs/old.md', status: 'removed' },
    ],
    foreignRepository: 'stranger/hidden',
    author: /\S/,
    push: async (branch, files) =>
      (
        await sb.admin<{ sha: string }>('repositories/acme/app/commits', {
          branch,
          files,
          message: 'push',
        })
      ).sha,
    setPageSize: async (n) => {
      await sb.admin('settings', { maxPagelen: n }, 'PUT')
    },
    failNext: async (count, status) => {
      await sb.admin('failures', { count, status, ...(status === 429 ? { retryAfter: 0 } : {}) })
    },
    revoke: async () => {
      await sb.admin(`installations/${inst.id}`, undefined, 'DELETE')
    },
    addRepository: async (name) => {
      await sb.admin('repositories', { owner: 'acme', name, files: { 'f.txt': name } })
      await sb.admin(`installations/${inst.id}/repositories`, { add: [name] }, 'PUT')
    },
    appWebhook: { secret: 'contract-secret', received: () => received },
    async stop() {
      sink.close()
      await sb.stop()
    },
  }
}

runProviderContract('GitHub (app installation)', () => fixture(false))
runProviderContract('GitHub Enterprise Server (app installation)', () => fixture(true))
