/**
 * Changed files over Git (the fallback of adapters whose API caps its diff listings, e.g.
 * GitHub's compare API at 300 files; issue 13 item 1), against real Git over HTTP: the sandbox
 * Bitbucket's git http-backend, with the same credential handling as git-archive.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ProviderAuthFailed, ProviderNotFound } from '../../src/providers/errors.js'
import { gitChangedFiles } from '../../src/providers/git-diff.js'
import { seedWorld, startSandbox, type Sandbox, type World } from '../helpers/bitbucket.js'

describe('Changed files over Git', () => {
  let sb: Sandbox
  let world: World
  let tmp: string
  let source: { url: string; username: string; password: string }
  beforeAll(async () => {
    sb = await startSandbox()
    world = await seedWorld(sb)
    tmp = mkdtempSync(join(tmpdir(), 'junction-git-diff-test-'))
    source = { url: `${sb.url}/acme/app.git`, username: 'x-token-auth', password: world.acmeToken }
  })
  afterAll(async () => {
    await sb.stop()
    rmSync(tmp, { recursive: true, force: true })
  })
  const commit = async (branch: string, files: Record<string, string | null>) =>
    (
      await sb.admin<{ commit: string }>('repositories/acme/app/commits', {
        branch,
        message: `on ${branch}`,
        files,
      })
    ).commit

  it('a commit against its first parent, and a root commit against the empty tree', async () => {
    expect(await gitChangedFiles(source, { commit: world.commits.second, tmpDir: tmp })).toEqual([
      { status: 'removed', path: 'docs/old.md' },
      { status: 'modified', path: 'src/main.c' },
      { status: 'added', path: 'src/new.c' },
    ])
    expect(await gitChangedFiles(source, { commit: world.commits.first, tmpDir: tmp })).toEqual([
      { status: 'added', path: 'README.md' },
      { status: 'added', path: 'docs/old.md' },
      { status: 'added', path: 'src/main.c' },
    ])
    expect(readdirSync(tmp)).toEqual([])
  })

  it('between two commits in git diff order (added = only in commit)', async () => {
    const files = await gitChangedFiles(source, {
      commit: world.commits.first,
      base: world.commits.second,
    })
    expect(files).toEqual([
      { status: 'added', path: 'docs/old.md' },
      { status: 'modified', path: 'src/main.c' },
      { status: 'removed', path: 'src/new.c' },
    ])
  })

  it('from the merge base (a pull request’s own changes), with a rename', async () => {
    const topic = await commit('topic', { 'src/new.c': null, 'src/moved.c': 'void f(){}\n' })
    const main = await commit('main', { 'README.md': '# app, later\n' })
    expect(
      await gitChangedFiles(source, { commit: topic, base: main, fromMergeBase: true }),
    ).toEqual([{ status: 'renamed', path: 'src/moved.c', oldPath: 'src/new.c' }])
    // Without the merge base the change on main shows too.
    const direct = await gitChangedFiles(source, { commit: topic, base: main })
    expect(direct.map((f) => f.path).sort()).toEqual(['README.md', 'src/moved.c'])
  })

  it('refuses a wrong credential and an unknown or abbreviated commit, cleaning up', async () => {
    await expect(
      gitChangedFiles(
        { ...source, password: 'wrong' },
        { commit: world.commits.second, tmpDir: tmp },
      ),
    ).rejects.toBeInstanceOf(ProviderAuthFailed)
    await expect(
      gitChangedFiles(source, { commit: 'f'.repeat(40), tmpDir: tmp }),
    ).rejects.toBeInstanceOf(ProviderNotFound)
    await expect(gitChangedFiles(source, { commit: 'abc123' })).rejects.toBeInstanceOf(
      ProviderNotFound,
    )
    expect(readdirSync(tmp)).toEqual([])
  })
})
