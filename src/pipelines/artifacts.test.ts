import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { crc32, deflateRawSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { extractZip, writeOutputArtifact } from './artifacts.js'
import { TooLargeError } from './file-io.js'
import { ZipFormatError } from './zip.js'

const run = promisify(execFile)

/** A zip of `entries` as a hostile producer would write it (sizes as given, not as true). */
function zipOf(entries: { name: string; data: Buffer; size?: number; deflate?: boolean }[]) {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  for (const e of entries) {
    const body = e.deflate ? deflateRawSync(e.data) : e.data
    const name = Buffer.from(e.name)
    const size = e.size ?? e.data.length
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(e.deflate ? 8 : 0, 8)
    local.writeUInt32LE(crc32(e.data), 14)
    local.writeUInt32LE(body.length, 18)
    local.writeUInt32LE(size, 22)
    local.writeUInt16LE(name.length, 26)
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0)
    central.writeUInt16LE(e.deflate ? 8 : 0, 10)
    central.writeUInt32LE(crc32(e.data), 16)
    central.writeUInt32LE(body.length, 20)
    central.writeUInt32LE(size, 24)
    central.writeUInt16LE(name.length, 28)
    central.writeUInt32LE(offset, 42)
    locals.push(local, name, body)
    centrals.push(central, name)
    offset += 30 + name.length + body.length
  }
  const cd = Buffer.concat(centrals)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(entries.length, 8)
  end.writeUInt16LE(entries.length, 10)
  end.writeUInt32LE(cd.length, 12)
  end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, cd, end])
}

describe('artifacts: extracting and zipping, streamed and capped', () => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'junction-artifacts-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  let n = 0
  const extract = async (zip: Buffer, max?: number) => {
    const file = join(dir, `in-${++n}.zip`)
    writeFileSync(file, zip)
    const out = join(dir, `out-${n}`)
    mkdirSync(out)
    return { out, files: await extractZip(file, out, max) }
  }

  it('refuses entries outside the directory, duplicates and sizes that lie', async () => {
    const x = Buffer.from('x')
    for (const name of ['../evil', '/tmp/evil', 'a/../../evil'])
      await expect(extract(zipOf([{ name, data: x }]))).rejects.toThrow(/outside the directory/)
    expect(existsSync(join(dir, 'evil'))).toBe(false)
    await expect(
      extract(
        zipOf([
          { name: 'a', data: x },
          { name: 'a', data: x },
        ]),
      ),
    ).rejects.toThrow(/appears twice/)
    // A small stated size over a large deflated body (inflated in one piece, and streamed).
    const text = Buffer.from(randomBytes(1_500_000).toString('base64'))
    expect(deflateRawSync(text).length).toBeGreaterThan(1024 * 1024)
    for (const data of [Buffer.alloc(100_000), text])
      await expect(
        extract(zipOf([{ name: 'bomb', data, size: 10, deflate: true }])),
      ).rejects.toThrow(/holds more than its stated size/)
    await expect(extract(Buffer.from('not a zip'))).rejects.toThrow(ZipFormatError)
  })

  it('stops at the cap however well the files compress', async () => {
    const bomb = zipOf([
      { name: 'a', data: Buffer.alloc(600_000), deflate: true },
      { name: 'b', data: Buffer.alloc(600_000), deflate: true },
    ])
    expect(bomb.length).toBeLessThan(5000)
    await expect(extract(bomb, 1_000_000)).rejects.toThrow(TooLargeError)
    expect((await extract(bomb, 1_200_000)).files).toBe(2)
  })

  it('zips outputs that unzip accepts and extract gives back byte for byte', async () => {
    const work = join(dir, 'work')
    mkdirSync(join(work, 'out', 'deep'), { recursive: true })
    const files: Record<string, Buffer> = {
      'out/empty': Buffer.alloc(0),
      'out/small.txt': Buffer.from('hello\n'.repeat(100)),
      'out/random.bin': randomBytes(2_500_000), // stored: it does not compress
      'out/deep/text.b64': Buffer.from(randomBytes(2_000_000).toString('base64')), // streamed
      'out/deep/zeros': Buffer.alloc(3_000_000),
    }
    for (const [f, data] of Object.entries(files)) writeFileSync(join(work, f), data)
    chmodSync(join(work, 'out/small.txt'), 0o750)
    symlinkSync('/etc', join(work, 'out', 'etc'))
    symlinkSync('/etc/passwd', join(work, 'out', 'deep', 'passwd'))
    const notes: string[] = []
    const store = join(dir, 'store')
    const made = await writeOutputArtifact(
      work,
      { name: 'Out', files: ['out/**'] },
      store,
      1 << 30,
      (l) => notes.push(l),
    )
    expect(made).toEqual({ path: join(store, 'Out.zip') })
    expect(readdirSync(store)).toEqual(['Out.zip'])
    expect(notes.join('')).toMatch(/skipped out\/deep\/passwd, a symbolic link/)
    expect(notes.join('')).toMatch(/skipped out\/etc, a symbolic link/)
    const zip = join(store, 'Out.zip')
    expect((await run('unzip', ['-t', zip])).stdout).toMatch(/No errors detected/)
    const back = join(dir, 'back')
    mkdirSync(back)
    expect(await extractZip(zip, back)).toBe(Object.keys(files).length)
    // (Buffer.equals: a deep comparison of megabytes, byte by byte, takes the test's whole time.)
    for (const [f, data] of Object.entries(files))
      expect(readFileSync(join(back, f)).equals(data), f).toBe(true)
    expect(statSync(join(back, 'out/small.txt')).mode & 0o777).toBe(0o750)
    expect(statSync(zip).size).toBeLessThan(2_500_000 + 2_000_000 * 1.4 + 100_000)

    // Over the cap: a clear failure and nothing left in the store.
    const over = await writeOutputArtifact(
      work,
      { name: 'Big', files: ['out/**'] },
      store,
      5_000_000,
      () => {},
    )
    expect(over).toEqual({
      failure: expect.stringMatching(/Output artifact Big is larger than the limit of 4\.8 MiB/),
      code: 'ArtifactTooLarge',
    })
    expect(readdirSync(store)).toEqual(['Out.zip'])
  })

  it('collects nothing through a working directory that became a link', async () => {
    const secret = join(dir, 'secret')
    mkdirSync(secret)
    writeFileSync(join(secret, 'master.key'), 'do not ship')
    const work = join(dir, 'swapped')
    symlinkSync(secret, work)
    const store = join(dir, 'store-swapped')
    const notes: string[] = []
    const made = await writeOutputArtifact(
      work,
      { name: 'Out', files: ['**'] },
      store,
      1 << 30,
      (l) => notes.push(l),
    )
    expect(made).toEqual({ failure: 'Output artifact Out: no file matches **', code: 'JobFailed' })
    expect(notes.join('')).toMatch(/skipped master\.key, which changed while it was collected/)
    expect(existsSync(store) ? readdirSync(store) : []).toEqual([])
  })
})
