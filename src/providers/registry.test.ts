import { describe, expect, it } from 'vitest'
import { InvalidInputException } from '../generated/errors.js'
import { descriptorByPath, descriptorOf, PROVIDERS, ProviderRegistry } from './registry.js'

const tools = {
  httpUrl: (flag: string, value: string) => {
    if (!/^https?:\/\//.test(value)) throw new Error(`--${flag} bad`)
    return value.replace(/\/+$/, '')
  },
  error: (message: string) => new Error(message),
}

// Every provider's descriptor fits beside the others: what core code builds from the registry
// (routes, serve flags, CompleteConnection's members) never clashes or names the wrong adapter.
describe('provider registry', () => {
  it('gives each provider a distinct type and route path, and finds it by either', () => {
    expect(new Set(PROVIDERS.map((p) => p.type)).size).toBe(PROVIDERS.length)
    expect(new Set(PROVIDERS.map((p) => p.path)).size).toBe(PROVIDERS.length)
    for (const p of PROVIDERS) {
      expect(p.path).toMatch(/^[a-z]+$/) // the /oauth/<path>/ route pattern
      expect(descriptorOf(p.type)).toBe(p)
      expect(descriptorByPath(p.path)).toBe(p)
    }
    expect(descriptorOf('Nope')).toBeUndefined()
    expect(descriptorByPath('nope')).toBeUndefined()
  })

  it('builds each adapter with its own type, with or without settings', () => {
    const registry = new ProviderRegistry({})
    for (const p of PROVIDERS) {
      expect(registry.get(p.type)?.type).toBe(p.type)
      expect(registry.descriptor(p.type)).toBe(p)
    }
  })

  it('keeps serve flags apart and documented, and reads defaults without any', () => {
    const names = PROVIDERS.flatMap((p) => p.configFlags.map((f) => f.name))
    expect(new Set(names).size).toBe(names.length)
    for (const p of PROVIDERS) {
      for (const f of p.configFlags) {
        expect(f.name.startsWith(`${p.path}-`)).toBe(true)
        expect(f.help).toContain(`--${f.name}`)
      }
      const c = p.readConfig({}, {}, tools)
      expect(c.endpoints.webUrl).toMatch(/^https:\/\//)
      expect(c.app).toEqual({})
    }
  })

  it('gives CompleteConnection members one meaning across providers', () => {
    const seen = new Map<string, string>()
    for (const p of PROVIDERS)
      for (const [name, spec] of Object.entries(p.completion.fields)) {
        const kind = seen.get(name)
        if (kind) expect(spec.type).toBe(kind)
        seen.set(name, spec.type)
      }
    expect(seen.has('ConnectionArn')).toBe(false) // the core's own member
  })

  it('gives junction connections complete flags one type across providers, each in its usage or help', () => {
    const seen = new Map<string, string>()
    for (const p of PROVIDERS) {
      const cli = p.completion.cli
      expect(p.completion.fields[cli.tokenMember]).toBeDefined()
      for (const [flag, o] of Object.entries(cli.options)) {
        expect(`${cli.usage}\n${cli.help}`).toContain(`--${flag}`)
        expect(['connection-arn', 'token-file', 'token-env', 'help']).not.toContain(flag)
        const type = seen.get(flag)
        if (type) expect(o.type).toBe(type)
        seen.set(flag, o.type)
      }
    }
  })
})

describe('Bitbucket completion', () => {
  const bb = descriptorOf('Bitbucket')!.completion
  const parse = (i: Record<string, unknown>) => bb.parse(i, 1_000)

  it('reads a workspace access token by default, and round-trips each CredentialType', () => {
    const r = parse({ Workspace: 'acme', AccessToken: 't' })
    expect(r).toMatchObject({
      target: 'acme',
      credentialKind: 'access-token',
      credentials: { kind: 'access-token', level: 'workspace', accessToken: 't' },
    })
    expect(r.administratorRequired).toBeUndefined()
    for (const t of ['WorkspaceAccessToken', 'ProjectAccessToken', 'RepositoryAccessToken']) {
      const kind = parse({
        Workspace: 'acme',
        AccessToken: 't',
        TokenType: t,
        Project: t === 'ProjectAccessToken' ? 'CORE' : undefined,
        Repository: t === 'RepositoryAccessToken' ? 'acme/app' : undefined,
      }).credentialKind
      expect(bb.credentialType(kind)).toBe(t)
    }
  })

  it('asks for the administrator only for a user token reaching the whole workspace', () => {
    const whole = parse({ Workspace: 'acme', AccessToken: 't', TokenType: 'OAuth' })
    expect(whole.administratorRequired).toMatch(/needs its administrator/)
    expect(whole.credentials.kind).toBe('oauth')
    const narrowed = parse({
      Workspace: 'acme',
      AccessToken: 't',
      TokenType: 'ApiToken',
      Email: 'a@example.com',
      Repository: 'App',
    })
    expect(narrowed.administratorRequired).toBeUndefined()
    expect(narrowed.credentials.reach).toEqual({ repository: 'app' })
  })

  it('turns the CLI flags into the members the parser takes', () => {
    const cli = descriptorOf('Bitbucket')!.completion.cli
    const tools = {
      usage: (m: string) => new Error(`usage: ${m}`),
      secret: (file: string) => `secret of ${file}`,
    }
    expect(
      cli.input({ workspace: 'acme', oauth: true, 'refresh-token-file': '/r' }, tools),
    ).toEqual({ Workspace: 'acme', TokenType: 'OAuth', RefreshToken: 'secret of /r' })
    expect(() => cli.input({}, tools)).toThrow('usage: --workspace is required')
    expect(() => cli.input({ workspace: 'a', 'token-type': 'app-password' }, tools)).toThrow(
      /usage: --token-type must be one of/,
    )
    expect(() =>
      cli.input({ workspace: 'a', oauth: true, 'token-type': 'project' }, tools),
    ).toThrow(/--oauth means oauth/)
    expect(cli.summary({ Workspace: 'acme', Project: 'CORE', InstallationId: 'i' })).toBe(
      'workspace acme, project CORE, installation i',
    )
  })

  it('refuses what a kind cannot take, as InvalidInputException', () => {
    for (const bad of [
      { Workspace: 'acme', AccessToken: 't', TokenType: 'RepositoryAccessToken' },
      { Workspace: 'acme', AccessToken: 't', TokenType: 'ApiToken' },
      { Workspace: 'acme', AccessToken: 't', Email: 'a@example.com' },
      { Workspace: 'acme', AccessToken: 't', Repository: 'rival/app' },
      { Workspace: 'acme', AccessToken: 't', RefreshToken: 'r' },
      { AccessToken: 't' },
    ])
      expect(() => parse(bad)).toThrow(InvalidInputException)
  })
})
