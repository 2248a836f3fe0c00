import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stripTopFolder, stripTopFolderFile, ZipFormatError } from './zip.js'

const run = promisify(execFile)

describe('CODE_ZIP: removing the provider archive top folder', () => {
  let dir: string
  let zip: Buffer
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'junction-zip-'))
    const repo = join(dir, 'repo')
    mkdirSync(join(repo, 'src', 'deep'), { recursive: true })
    writeFileSync(join(repo, 'README.md'), '# hello\n'.repeat(200))
    writeFileSync(
      join(repo, 'src', 'deep', 'a.bin'),
      Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7) % 256)),
    )
    writeFileSync(join(repo, 'src', 'empty.txt'), '')
    writeFileSync(join(repo, 'ünïcode näme.txt'), 'x')
    const env = {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@x',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@x',
    }
    await run('git', ['init', '-q', '-b', 'main', repo])
    await run('git', ['-C', repo, 'add', '.'], { env })
    await run('git', ['-C', repo, 'commit', '-qm', 'c'], { env })
    // The provider's layout: everything under one folder named after the repository and commit.
    const { stdout } = await run(
      'git',
      ['-C', repo, 'archive', '--format=zip', '--prefix=ws-repo-0123456789ab/', 'HEAD'],
      {
        encoding: 'buffer',
        maxBuffer: 1 << 26,
      },
    )
    zip = stdout as unknown as Buffer
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('keeps every file, at the root, byte for byte, with valid CRCs', async () => {
    const out = await stripTopFolder(zip)
    const file = join(dir, 'out.zip')
    writeFileSync(file, out)
    const test = await run('unzip', ['-t', file])
    expect(test.stdout).toMatch(/No errors detected/)
    const { stdout } = await run('unzip', ['-Z1', file])
    expect(stdout.trim().split('\n').sort()).toEqual([
      'README.md',
      'src/',
      'src/deep/',
      'src/deep/a.bin',
      'src/empty.txt',
      'ünïcode näme.txt',
    ])
    const x = join(dir, 'x')
    await run('unzip', ['-q', file, '-d', x])
    expect(readFileSync(join(x, 'src', 'deep', 'a.bin'))).toEqual(
      readFileSync(join(dir, 'repo', 'src', 'deep', 'a.bin')),
    )
    expect(readFileSync(join(x, 'README.md'), 'utf8')).toBe('# hello\n'.repeat(200))
  })

  it('refuses what is not a one-folder zip', async () => {
    await expect(stripTopFolder(Buffer.from('not a zip at all, not even close'))).rejects.toThrow(
      ZipFormatError,
    )
    const damaged = Buffer.from(zip)
    // Break the first central directory entry's signature.
    damaged.writeUInt32LE(0, damaged.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])))
    await expect(stripTopFolder(damaged)).rejects.toThrow(/damaged/)
    // A local name other than the central one (what the extractor would not check).
    const forged = Buffer.from(zip)
    const second = forged.indexOf(Buffer.from([0x50, 0x4b, 0x03, 0x04]), 4) // after the top folder
    forged.writeUInt8(forged.readUInt8(second + 35) ^ 1, second + 35) // inside the prefix
    await expect(stripTopFolder(forged)).rejects.toThrow(/does not match the central directory/)
    await expect(stripTopFolder(await stripTopFolder(zip))).rejects.toThrow(/no single top folder/)
  })

  it('gives the same archive from file to file as in memory', async () => {
    const src = join(dir, 'provider.zip')
    const dest = join(dir, 'file-out.zip')
    writeFileSync(src, zip)
    await stripTopFolderFile(src, dest)
    expect(readFileSync(dest)).toEqual(await stripTopFolder(zip))
    // The destination is created, never overwritten.
    await expect(stripTopFolderFile(src, dest)).rejects.toThrow(/EEXIST/)
  })
})
