/**
 * Source archives over Git (issue 12 item 5), against the sandbox Bitbucket: the provider-neutral
 * git-archive module (shallow fetch by commit, fallback for servers that refuse unadvertised
 * commits, size bound, clean-up, no credential on any command line), the adapter's archives, and
 * the sandbox refusing tokens on its website downloads as bitbucket.org does.
 */
import { execFile } from 'node:child_process'
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ProviderAuthFailed, ProviderNotFound } from '../../src/providers/errors.js'
import { gitArchive, GitArchiveTooLarge } from '../../src/providers/git-archive.js'
import type { ProviderCredentials } from '../../src/providers/provider.js'
import {
  sandboxProvider,
  seedWorld,
  startSandbox,
  type Sandbox,
  type World,
} from '../helpers/bitbucket.js'

const run = promisify(execFile)

async function zipNames(stream: ReadableStream<Uint8Array>, dir: string): Promise<string[]> {
  const path = join(dir, `a-${Math.random().toString(36).slice(2)}.zip`)
  writeFileSync(path, Buffer.from(await new Response(stream).arrayBuffer()))
  const { stdout } = await run('unzip', ['-Z1', path])
  return stdout.split('\n').filter((l) => l !== '')
}

describe('Source archives over Git', () => {
  let sb: Sandbox
  let world: World
  let dir: string
  let source: { url: string; username: string; password: string }
  beforeAll(async () => {
    sb = await startSandbox()
    world = await seedWorld(sb)
    dir = mkdtempSync(join(tmpdir(), 'junction-git-archive-test-'))
    source = { url: `${sb.url}/acme/app.git`, username: 'x-token-auth', password: world.acmeToken }
  })
  afterAll(async () => {
    await sb.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('zips the tree at a commit with one top folder and no .git, and leaves nothing behind', async () => {
    const tmp = mkdtempSync(join(dir, 'tmp-'))
    const names = await zipNames(
      await gitArchive(source, { commit: world.commits.first, prefix: 'top', tmpDir: tmp }),
      dir,
    )
    expect(names.filter((n) => !n.endsWith('/')).sort()).toEqual([
      'top/README.md',
      'top/docs/old.md',
      'top/src/main.c',
    ])
    expect(names.every((n) => n.startsWith('top/') && !n.includes('.git/'))).toBe(true)
    expect(readdirSync(tmp)).toEqual([])
  })

  it('falls back to fetching the refs when the server refuses an unadvertised commit (protocol v0)', async () => {
    const names = await zipNames(
      await gitArchive(source, { commit: world.commits.first, prefix: 'p', protocolVersion: 0 }),
      dir,
    )
    expect(names).toContain('p/docs/old.md')
  })

  it('maps a refused credential, an unknown commit and a too-large fetch, cleaning up each time', async () => {
    const tmp = mkdtempSync(join(dir, 'tmp-'))
    await expect(
      gitArchive(
        { ...source, password: 'wrong' },
        { commit: world.commits.first, prefix: 'p', tmpDir: tmp },
      ),
    ).rejects.toBeInstanceOf(ProviderAuthFailed)
    await expect(
      gitArchive(source, { commit: 'f'.repeat(40), prefix: 'p', tmpDir: tmp }),
    ).rejects.toBeInstanceOf(ProviderNotFound)
    await expect(
      gitArchive(source, { commit: 'abc123', prefix: 'p', tmpDir: tmp }),
    ).rejects.toBeInstanceOf(ProviderNotFound)
    const { commit } = await sb.admin<{ commit: string }>('repositories/acme/app/commits', {
      branch: 'big',
      message: 'big',
      files: {
        'big.txt': Buffer.from(new Uint8Array(600_000).map(() => Math.random() * 256)).toString(
          'base64',
        ),
      },
    })
    await expect(
      gitArchive(source, { commit, prefix: 'p', tmpDir: tmp, maxBytes: 100_000 }),
    ).rejects.toBeInstanceOf(GitArchiveTooLarge)
    expect(readdirSync(tmp)).toEqual([])
  })

  it('cleans up when the reader cancels the stream', async () => {
    const tmp = mkdtempSync(join(dir, 'tmp-'))
    const s = await gitArchive(source, { commit: world.commits.second, prefix: 'p', tmpDir: tmp })
    expect(readdirSync(tmp)).toHaveLength(1)
    await s.cancel()
    expect(readdirSync(tmp)).toEqual([])
  })

  it('never puts the credential on a command line', async () => {
    // A `git` first on PATH that records its arguments, then runs the real one.
    const bin = mkdtempSync(join(dir, 'bin-'))
    const log = join(bin, 'argv.log')
    const { stdout: real } = await run('sh', ['-c', 'command -v git'])
    writeFileSync(
      join(bin, 'git'),
      `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec '${real.trim()}' "$@"\n`,
    )
    chmodSync(join(bin, 'git'), 0o755)
    const path = process.env['PATH']
    process.env['PATH'] = `${bin}:${path ?? ''}`
    try {
      await zipNames(await gitArchive(source, { commit: world.commits.second, prefix: 'p' }), dir)
    } finally {
      process.env['PATH'] = path
    }
    const argv = readFileSync(log, 'utf8')
    expect(argv).toContain('fetch')
    expect(argv).toContain('archive')
    expect(argv).not.toContain(world.acmeToken)
    expect(argv).not.toContain(Buffer.from(`x-token-auth:${world.acmeToken}`).toString('base64'))
  })

  it('the adapter serves CODE_ZIP archives over Git, resolving an abbreviated commit', async () => {
    const provider = sandboxProvider(sb)
    const c: ProviderCredentials = { kind: 'access-token', accessToken: world.acmeToken }
    const names = await zipNames(
      await provider.downloadArchive(c, 'acme/app', world.commits.second.slice(0, 12)),
      dir,
    )
    const top = `acme-app-${world.commits.second.slice(0, 12)}/`
    expect(names).toContain(`${top}src/new.c`)
    expect(names).not.toContain(`${top}docs/old.md`)
  })

  it("the sandbox's website downloads refuse tokens, as bitbucket.org does", async () => {
    const url = `${sb.url}/acme/app/get/${world.commits.first}.zip`
    const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`
    for (const headers of [
      { authorization: `Bearer ${world.acmeToken}` },
      { authorization: basic('x-token-auth', world.acmeToken) },
    ]) {
      const res = await fetch(url, { headers, redirect: 'manual' })
      expect(res.status).toBe(403)
      expect(await res.text()).toContain('does not support token-based authentication')
    }
    const q = await fetch(`${url}?access_token=${world.acmeToken}`, { redirect: 'manual' })
    expect(q.status).toBe(403)
    await q.body?.cancel()
    const anonymous = await fetch(url, { redirect: 'manual' })
    expect(anonymous.status).toBe(302)
    expect(anonymous.headers.get('location')).toContain('/account/signin/')
    await anonymous.body?.cancel()
    // A member's own password still downloads (the website's Basic login).
    const member = await fetch(url, { headers: { authorization: basic('alice', 'alice-pw') } })
    expect(member.status).toBe(200)
    expect(
      Buffer.from(await member.arrayBuffer())
        .subarray(0, 2)
        .toString(),
    ).toBe('PK')
  })
})
