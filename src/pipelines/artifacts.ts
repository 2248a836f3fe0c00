/**
 * @module pipelines/artifacts
 * The artifact store (a folder under the data directory) and the two zip operations actions need:
 * extracting an input artifact into a working directory (stored and deflated entries, Unix modes
 * kept, nothing written outside the directory) and zipping declared output files.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, chmodSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib'
import { ZipFormatError } from './zip.js'
import { GlobSet } from './glob.js'

const LOCAL = 0x04034b50
const CENTRAL = 0x02014b50
const END = 0x06054b50

function findEnd(zip: Buffer): number {
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--)
    if (zip.readUInt32LE(i) === END) return i
  throw new ZipFormatError('Not a zip archive: no end-of-central-directory record')
}

/** Extracts `zip` into `dir`; refuses entries that would land outside it. Returns the file count. */
export function extractZip(zip: Buffer, dir: string): number {
  const root = resolve(dir)
  const end = findEnd(zip)
  const count = zip.readUInt16LE(end + 10)
  let p = zip.readUInt32LE(end + 16)
  let files = 0
  for (let i = 0; i < count; i++) {
    if (p + 46 > zip.length || zip.readUInt32LE(p) !== CENTRAL)
      throw new ZipFormatError('Corrupt central directory')
    const method = zip.readUInt16LE(p + 10)
    const compressed = zip.readUInt32LE(p + 20)
    const nameLen = zip.readUInt16LE(p + 28)
    const extraLen = zip.readUInt16LE(p + 30)
    const commentLen = zip.readUInt16LE(p + 32)
    const external = zip.readUInt32LE(p + 38)
    const local = zip.readUInt32LE(p + 42)
    const name = zip.subarray(p + 46, p + 46 + nameLen).toString('utf8')
    p += 46 + nameLen + extraLen + commentLen
    const target = resolve(root, name)
    if (target !== root && !target.startsWith(root + sep))
      throw new ZipFormatError(`Entry ${name.slice(0, 200)} would be written outside the directory`)
    if (name.endsWith('/')) {
      mkdirSync(target, { recursive: true })
      continue
    }
    if (zip.readUInt32LE(local) !== LOCAL) throw new ZipFormatError('Corrupt local header')
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28)
    const data = zip.subarray(start, start + compressed)
    let content: Buffer
    if (method === 0) content = Buffer.from(data)
    else if (method === 8) content = inflateRawSync(data)
    else throw new ZipFormatError(`Entry ${name.slice(0, 200)} uses compression method ${method}`)
    mkdirSync(dirname(target), { recursive: true })
    writeFileSync(target, content)
    const mode = (external >>> 16) & 0o777
    if (mode) chmodSync(target, mode)
    files++
  }
  return files
}

function walk(dir: string, base: string, out: string[]): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, e.name)
    if (e.isDirectory()) walk(full, base, out)
    else if (e.isFile()) out.push(relative(base, full).split(sep).join('/'))
  }
}

/** Files under `dir` (relative, `/`-separated) matching any of `patterns`. */
export function matchFiles(dir: string, patterns: string[]): string[] {
  const all: string[] = []
  walk(dir, dir, all)
  const set = new GlobSet(patterns)
  return all.filter((f) => set.match(f) !== undefined).sort()
}

/** A deflated zip of `files` (relative to `dir`), with their Unix modes. */
export function createZip(dir: string, files: string[]): Buffer {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  for (const f of files) {
    const full = join(dir, f)
    const data = readFileSync(full)
    const mode = statSync(full).mode & 0o777
    const packed = deflateRawSync(data)
    const name = Buffer.from(f, 'utf8')
    const crc = crc32(data)
    const local = Buffer.alloc(30)
    local.writeUInt32LE(LOCAL, 0)
    local.writeUInt16LE(20, 4)
    local.writeUInt16LE(0x0800, 6)
    local.writeUInt16LE(8, 8)
    local.writeUInt32LE(crc, 14)
    local.writeUInt32LE(packed.length, 18)
    local.writeUInt32LE(data.length, 22)
    local.writeUInt16LE(name.length, 26)
    const central = Buffer.alloc(46)
    central.writeUInt32LE(CENTRAL, 0)
    central.writeUInt16LE(0x031e, 4)
    central.writeUInt16LE(20, 6)
    central.writeUInt16LE(0x0800, 8)
    central.writeUInt16LE(8, 10)
    central.writeUInt32LE(crc, 16)
    central.writeUInt32LE(packed.length, 20)
    central.writeUInt32LE(data.length, 24)
    central.writeUInt16LE(name.length, 28)
    central.writeUInt32LE(((0o100000 | mode) << 16) >>> 0, 38)
    central.writeUInt32LE(offset, 42)
    locals.push(local, name, packed)
    centrals.push(central, name)
    offset += 30 + name.length + packed.length
  }
  const dirBuf = Buffer.concat(centrals)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(END, 0)
  end.writeUInt16LE(files.length, 8)
  end.writeUInt16LE(files.length, 10)
  end.writeUInt32LE(dirBuf.length, 12)
  end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, dirBuf, end])
}
