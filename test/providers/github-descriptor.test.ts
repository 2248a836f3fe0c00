/**
 * The GitHub descriptor: its serve flags and environment (secrets never required on the command
 * line), CompleteConnection's two credentials (an app installation id, a personal access token)
 * and their CLI flags, and the per-host adapter of GitHub Enterprise Server.
 */
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { InvalidInputException } from '../../src/generated/errors.js'
import { GitHubProvider } from '../../src/providers/github/github-provider.js'
import { enterpriseEndpoints, github } from '../../src/providers/github/index.js'
import { descriptorOf, PROVIDERS, ProviderRegistry } from '../../src/providers/registry.js'

const tools = {
  httpUrl: (flag: string, value: string) => {
    if (!/^https?:\/\/[^/]/.test(value)) throw new Error(`--${flag} bad`)
    return value.replace(/\/+$/, '')
  },
  error: (message: string) => new Error(message),
}
const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
  type: 'pkcs1',
  format: 'pem',
}) as string

describe('GitHub descriptor', () => {
  it('is registered as an app-installation provider with one app webhook', () => {
    expect(descriptorOf('GitHub')).toBe(github)
    expect(PROVIDERS).toContain(github)
    expect(github.handshake).toBe('app-installation')
    expect(github.webhooks).toBe('app')
    expect(new ProviderRegistry({}).get('GitHub')).toBeInstanceOf(GitHubProvider)
  })

  it('defaults to github.com, and puts the REST API under /api/v3 of any other base', () => {
    expect(github.readConfig({}, {}, tools).endpoints).toEqual({
      webUrl: 'https://github.com',
      apiUrl: 'https://api.github.com',
    })
    expect(github.readConfig({ 'github-url': 'https://github.com/' }, {}, tools).endpoints).toEqual(
      { webUrl: 'https://github.com', apiUrl: 'https://api.github.com' },
    )
    expect(
      github.readConfig({ 'github-url': 'http://127.0.0.1:7991' }, {}, tools).endpoints,
    ).toEqual({ webUrl: 'http://127.0.0.1:7991', apiUrl: 'http://127.0.0.1:7991/api/v3' })
    expect(
      github.readConfig(
        { 'github-url': 'http://127.0.0.1:7991', 'github-api-url': 'http://127.0.0.1:7992' },
        {},
        tools,
      ).endpoints.apiUrl,
    ).toBe('http://127.0.0.1:7992')
  })

  it('reads the app from flags, a key file and the environment (flags first)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-desc-'))
    const file = join(dir, 'app.pem')
    writeFileSync(file, pem)
    const app = github.readConfig(
      {
        'github-app-id': '12345',
        'github-app-slug': 'junction-ci',
        'github-client-id': 'Iv23abc',
        'github-private-key-file': file,
      },
      { JUNCTION_GITHUB_CLIENT_SECRET: 'cs', JUNCTION_GITHUB_WEBHOOK_SECRET: 'ws' },
      tools,
    ).app
    expect(app).toEqual({
      appId: '12345',
      slug: 'junction-ci',
      clientId: 'Iv23abc',
      clientSecret: 'cs',
      privateKey: pem,
      webhookSecret: 'ws',
    })
    const fromEnv = github.readConfig(
      {},
      { JUNCTION_GITHUB_PRIVATE_KEY: pem, JUNCTION_GITHUB_APP_ID: '7' },
      tools,
    ).app
    expect(fromEnv).toEqual({ appId: '7', privateKey: pem })
    expect(github.readConfig({}, {}, tools).app).toEqual({})
  })

  it('refuses a half-given or malformed app, naming the flag and never echoing a secret', () => {
    const bad: [Record<string, string>, Record<string, string>, RegExp][] = [
      [{ 'github-client-id': 'Iv1' }, {}, /client id and secret/],
      [{}, { JUNCTION_GITHUB_CLIENT_SECRET: 'shh-secret' }, /client id and secret/],
      [{ 'github-app-id': 'abc' }, {}, /--github-app-id/],
      [{ 'github-app-slug': 'Has Spaces' }, {}, /--github-app-slug/],
      [{ 'github-private-key-file': '/nonexistent/key.pem' }, {}, /cannot read/],
      [{}, { JUNCTION_GITHUB_PRIVATE_KEY: 'not-a-pem-secret' }, /not a PEM/],
    ]
    for (const [flags, env, message] of bad) {
      let err: Error | undefined
      try {
        github.readConfig(flags, env, tools)
      } catch (e) {
        err = e as Error
      }
      expect(err?.message).toMatch(message)
      expect(err?.message).not.toMatch(/shh-secret|not-a-pem-secret/)
    }
  })
})

describe('GitHub completion', () => {
  const spec = github.completion

  it('takes an installation id alone (its account named by GitHub) or with its Owner', () => {
    const r = spec.parse({ InstallationId: '424242' }, 0)
    expect(r).toEqual({
      target: '',
      credentials: { kind: 'github-installation', installationId: '424242', accessToken: '' },
      credentialKind: 'github-installation',
    })
    expect(spec.parse({ InstallationId: '424242', Owner: 'octo-org' }, 0).target).toBe('octo-org')
    expect(spec.credentialType(r.credentialKind)).toBe('AppInstallation')
  })

  it('takes a personal access token with its Owner, as the weaker PersonalAccessToken', () => {
    const r = spec.parse({ AccessToken: 'github_pat_x', Owner: 'octocat' }, 0)
    expect(r.target).toBe('octocat')
    expect(r.credentials).toEqual({ kind: 'access-token', accessToken: 'github_pat_x' })
    expect(spec.credentialType(r.credentialKind)).toBe('PersonalAccessToken')
  })

  it('refuses what does not make one credential, as InvalidInputException', () => {
    for (const input of [
      {},
      { Owner: 'octocat' },
      { AccessToken: 'github_pat_x' },
      { InstallationId: '1', AccessToken: 'github_pat_x' },
      { InstallationId: '0123' },
    ])
      expect(() => spec.parse(input, 0)).toThrow(InvalidInputException)
  })

  it('turns the CLI flags into the members, reading a token only for a personal access token', () => {
    const cli = spec.cli
    const t = {
      usage: (m: string) => new Error(m),
      secret: () => {
        throw new Error('no file')
      },
    }
    expect(cli.input({ 'installation-id': '99' }, t)).toEqual({ InstallationId: '99' })
    expect(cli.needsToken?.({ 'installation-id': '99' })).toBe(false)
    expect(cli.input({ owner: 'octocat' }, t)).toEqual({ Owner: 'octocat' })
    expect(cli.needsToken?.({ owner: 'octocat' })).toBe(true)
    expect(() => cli.input({}, t)).toThrow(/--installation-id/)
    expect(() => cli.input({ 'installation-id': 'x1' }, t)).toThrow(/digits/)
  })
})

describe('GitHub Enterprise Server hosts', () => {
  it('gives a host its own adapter on https://HOST and https://HOST/api/v3, with its app', () => {
    const apps: Record<
      string,
      { clientId: string; clientSecret: string; callbackUrl: string; slug: string }
    > = {
      'arn:host/1': { clientId: 'a', clientSecret: 'b', callbackUrl: 'x', slug: 'on-ghes' },
    }
    const registry = new ProviderRegistry({}, (arn) => apps[arn])
    const host = {
      arn: 'arn:host/1',
      providerType: 'GitHubEnterpriseServer',
      providerEndpoint: 'https://ghes.example.com/',
    }
    const a = registry.forHost(host) as GitHubProvider
    expect(a.type).toBe('GitHubEnterpriseServer')
    expect(a.capabilities.hosts).toBe(true)
    expect(a.endpoints).toEqual(enterpriseEndpoints('https://ghes.example.com'))
    expect(a.endpoints.apiUrl).toBe('https://ghes.example.com/api/v3')
    expect(registry.forHost(host)).toBe(a)
    expect(a.authorizationUrl('s').toString()).toBe(
      'https://ghes.example.com/github-apps/on-ghes/installations/new?state=s',
    )
    const moved = registry.forHost({ ...host, providerEndpoint: 'https://ghes2.example.com' })
    expect(moved).not.toBe(a)
    expect(registry.forHost({ ...host, providerType: 'Bitbucket' })).toBeUndefined()
    expect(ProviderRegistry.hosted('GitHubEnterpriseServer')).toBe(true)
    expect(ProviderRegistry.hosted('GitHub')).toBe(false)
  })
})
