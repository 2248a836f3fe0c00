/**
 * The GitLab adapter against the sandbox GitLab, as gitlab.com (`GitLab`) and as a self-managed
 * instance (`GitLabSelfManaged`, endpoints from its host URL): the provider contract with alice's
 * OAuth credential, obtained through the adapter's own handshake (consent with the PKCE challenge
 * derived from the state, the code exchanged with the verifier derived again), on a nested target
 * (`acme/platform`) whose projects have two-level paths below the top group.
 */
import { GitLabProvider } from '../../src/providers/gitlab/gitlab-provider.js'
import { selfManagedEndpoints } from '../../src/providers/gitlab/client.js'
import { startGlSandbox, type GlSandbox } from '../helpers/gitlab-sandbox.js'
import { runProviderContract, type ContractFixture } from './contract.js'

const TARGET = 'acme/platform'
const REPO = `${TARGET}/contract`

/** Alice consents on the sandbox's page to the adapter's own authorization URL; the code comes back. */
async function consent(sb: GlSandbox, provider: GitLabProvider, state: string): Promise<string> {
  const u = provider.authorizationUrl(state)
  const form = new URLSearchParams(u.searchParams)
  form.set('username', 'alice')
  form.set('password', 'alice-password')
  form.set('decision', 'grant')
  const r = await fetch(`${sb.url}/oauth/authorize`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form,
  })
  if (r.status !== 302) throw new Error(`consent answered ${r.status}: ${await r.text()}`)
  const back = new URL(r.headers.get('location')!)
  if (back.searchParams.get('state') !== state) throw new Error('state not carried')
  return back.searchParams.get('code')!
}

async function fixture(selfManaged: boolean): Promise<ContractFixture & { stop(): Promise<void> }> {
  const sb = await startGlSandbox({ selfManaged })
  const enc = encodeURIComponent
  const first = await sb.admin<{ head: string }>('projects', {
    namespace: TARGET,
    path: 'contract',
    files: { 'README.md': '# contract\n', 'src/main.c': 'int main;\n', 'docs/old.md': 'old\n' },
  })
  const second = await sb.admin<{ sha: string }>(`projects/${enc(REPO)}/commits`, {
    message: 'Second commit',
    files: { 'src/main.c': 'int main(void);\n', 'src/new.c': 'new\n', 'docs/old.md': null },
    author: 'alice',
  })
  await sb.admin('users', { username: 'mallory', password: 'mallory-password' })
  await sb.admin('groups', { path: 'stranger', visibility: 'private' })
  await sb.admin('members', { group: 'stranger', username: 'mallory', accessLevel: 50 }, 'PUT')
  await sb.admin('projects', { namespace: 'stranger', path: 'hidden', files: { 'h.txt': 'h\n' } })
  const app = sb.world.app
  const provider = new GitLabProvider({
    type: selfManaged ? 'GitLabSelfManaged' : 'GitLab',
    endpoints: selfManaged
      ? selfManagedEndpoints(sb.url)
      : { webUrl: sb.url, apiUrl: `${sb.url}/api/v4` },
    app: { clientId: app.clientId, clientSecret: app.secret, callbackUrl: app.redirectUri },
  })
  const code = await consent(sb, provider, 'contract-state')
  const credentials = await provider.exchangeCode(code, { state: 'contract-state' })
  const f: ContractFixture & { stop(): Promise<void> } = {
    provider,
    credentials,
    target: TARGET,
    repository: REPO,
    commits: { first: first.head, second: second.sha },
    changes: [
      { path: 'src/main.c', status: 'modified' },
      { path: 'src/new.c', status: 'added' },
      { path: 'docs/old.md', status: 'removed' },
    ],
    foreignRepository: 'stranger/hidden',
    push: async (branch, files) =>
      (
        await sb.admin<{ sha: string }>(`projects/${enc(REPO)}/commits`, {
          branch,
          files,
          message: 'push',
          author: 'alice',
        })
      ).sha,
    setPageSize: async (n) => {
      await sb.admin('settings', { maxPagelen: n }, 'PUT')
    },
    failNext: async (count, status) => {
      await sb.admin('failures', { count, status, ...(status === 429 ? { retryAfter: 0 } : {}) })
    },
    revoke: async () => {
      // The refresh token (the grant) and the access token issued with it.
      for (const token of [f.credentials.refreshToken, f.credentials.accessToken])
        if (token) await sb.admin('tokens/revoke', { token })
    },
    addRepository: async (name) => {
      await sb.admin('projects', { namespace: TARGET, path: name, files: { 'f.txt': name } })
    },
    stop: () => sb.stop(),
  }
  return f
}

runProviderContract('GitLab (OAuth, gitlab.com)', () => fixture(false))
runProviderContract('GitLab self-managed (OAuth, through a host)', () => fixture(true))
