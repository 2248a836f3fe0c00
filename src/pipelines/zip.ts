/**
 * @module pipelines/zip
 * Provider archives put every file under one top folder (Bitbucket: `<ws>-<repo>-<sha>/`); a
 * `CODE_ZIP` source artifact holds the tree at its root. `stripTopFolder` rewrites the archive's
 * entry names and offsets without decompressing anything, so it runs at copying speed; the file
 * form reads and writes through a few MiB of buffers, whatever the archive's size. Plain
 * (non-ZIP64) archives only: more than 65,535 entries or 4 GiB is refused with a clear error.
 */
import { open } from 'node:fs/promises'
import { BufferedWriter, WindowedReader } from './file-io.js'

const LOCAL = 0x04034b50
const CENTRAL = 0x02014b50
const END = 0x06054b50
const DESCRIPTOR = 0x08074b50

export class ZipFormatError extends Error {}

/** Where an archive is read from: positional reads (views valid until the next read). */
export interface ZipSource {
  readonly size: number
  read(pos: number, len: number): Promise<Buffer>
  range(start: number, end: number): AsyncIterable<Buffer>
}

export function bufferSource(zip: Buffer): ZipSource {
  return {
    size: zip.length,
    read: (pos, len) => Promise.resolve(zip.subarray(pos, pos + len)),
    async *range(start, end) {
      yield zip.subarray(start, end)
    },
  }
}

/** The end-of-central-directory record, checked for what plain archives allow. */
export async function readEnd(
  src: ZipSource,
): Promise<{ end: number; record: Buffer; count: number; cdOffset: number; cdSize: number }> {
  // The end record is at least 22 bytes and may be followed by a comment of up to 65,535 bytes.
  const tailLen = Math.min(src.size, 22 + 0xffff)
  const tail = Buffer.from(await src.read(src.size - tailLen, tailLen))
  for (let i = tail.length - 22; i >= 0; i--)
    if (tail.readUInt32LE(i) === END) {
      const record = tail.subarray(i, i + 22)
      const end = src.size - tailLen + i
      const count = record.readUInt16LE(10)
      const cdSize = record.readUInt32LE(12)
      const cdOffset = record.readUInt32LE(16)
      if (count === 0xffff || cdOffset === 0xffffffff || cdSize === 0xffffffff)
        throw new ZipFormatError('ZIP64 archives are not supported')
      if (cdOffset + cdSize > end)
        throw new ZipFormatError('The central directory lies outside the archive')
      return { end, record, count, cdOffset, cdSize }
    }
  throw new ZipFormatError('Not a zip archive: no end-of-central-directory record')
}

/** One central directory entry, as the archive has it. */
export interface CentralEntry {
  name: Buffer
  /** The whole central record (46 bytes, name, extra, comment). */
  central: Buffer
  method: number
  flags: number
  compressedSize: number
  size: number
  crc: number
  external: number
  localOffset: number
}

/** The central directory's entries, in order. */
export async function readCentral(src: ZipSource): Promise<CentralEntry[]> {
  const { count, cdOffset, cdSize, end } = await readEnd(src)
  const cd = Buffer.from(await src.read(cdOffset, cdSize))
  const entries: CentralEntry[] = []
  let p = 0
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || cdOffset + p + 46 > end || cd.readUInt32LE(p) !== CENTRAL)
      throw new ZipFormatError('A central directory entry is damaged')
    const nameLen = cd.readUInt16LE(p + 28)
    const size = 46 + nameLen + cd.readUInt16LE(p + 30) + cd.readUInt16LE(p + 32)
    if (p + size > cd.length) throw new ZipFormatError('A central directory entry is damaged')
    entries.push({
      name: cd.subarray(p + 46, p + 46 + nameLen),
      central: cd.subarray(p, p + size),
      flags: cd.readUInt16LE(p + 8),
      method: cd.readUInt16LE(p + 10),
      crc: cd.readUInt32LE(p + 16),
      compressedSize: cd.readUInt32LE(p + 20),
      size: cd.readUInt32LE(p + 24),
      external: cd.readUInt32LE(p + 38),
      localOffset: cd.readUInt32LE(p + 42),
    })
    p += size
  }
  return entries
}

/**
 * Where an entry's data lies: after its local header, up to `cdOffset` at most (a data
 * descriptor, when the entry has one, is `descriptor` bytes after the data).
 */
export async function localData(
  src: ZipSource,
  e: CentralEntry,
  limit: number,
): Promise<{ nameLen: number; extraLen: number; header: Buffer; start: number; end: number }> {
  const l = e.localOffset
  if (l + 30 > limit) throw new ZipFormatError('A local file header is damaged')
  const header = Buffer.from(await src.read(l, 30))
  if (header.length < 30 || header.readUInt32LE(0) !== LOCAL)
    throw new ZipFormatError('A local file header is damaged')
  const nameLen = header.readUInt16LE(26)
  const extraLen = header.readUInt16LE(28)
  const start = l + 30 + nameLen + extraLen
  const end = start + e.compressedSize
  if (end > limit) throw new ZipFormatError('A file runs past the central directory')
  return { nameLen, extraLen, header, start, end }
}

async function strip(src: ZipSource, write: (b: Buffer) => Promise<void>): Promise<void> {
  const { cdOffset, record } = await readEnd(src)
  const entries = await readCentral(src)
  if (entries.length === 0) {
    for await (const piece of src.range(0, src.size)) await write(piece)
    return
  }
  const first = entries[0]!.name.toString('utf8')
  const slash = first.indexOf('/')
  const prefix = slash >= 0 ? first.slice(0, slash + 1) : ''
  if (!prefix || !entries.every((e) => e.name.toString('utf8').startsWith(prefix)))
    throw new ZipFormatError('The archive has no single top folder to remove')
  const cut = Buffer.byteLength(prefix)
  const centrals: Buffer[] = []
  let offset = 0
  for (const e of entries) {
    if (e.name.length === cut) continue // the top folder itself
    const { nameLen, extraLen, header, start, end } = await localData(src, e, cdOffset)
    // The local name must be the central one: the prefix cut from it is the same.
    if (!(await src.read(e.localOffset + 30, nameLen)).equals(e.name))
      throw new ZipFormatError('A local file header does not match the central directory')
    let dataEnd = end
    if (e.flags & 0x08) {
      const sig = await src.read(end, 4)
      dataEnd += sig.length === 4 && sig.readUInt32LE(0) === DESCRIPTOR ? 16 : 12
    }
    if (dataEnd > cdOffset) throw new ZipFormatError('A file runs past the central directory')
    header.writeUInt16LE(nameLen - cut, 26)
    await write(header)
    await write(Buffer.from(await src.read(e.localOffset + 30 + cut, nameLen - cut + extraLen)))
    for await (const piece of src.range(start, dataEnd)) await write(piece)
    const central = Buffer.from(e.central)
    central.writeUInt16LE(e.name.length - cut, 28)
    central.writeUInt32LE(offset, 42)
    centrals.push(Buffer.concat([central.subarray(0, 46), central.subarray(46 + cut)]))
    offset += 30 + (nameLen - cut) + extraLen + (dataEnd - start)
  }
  const cd = Buffer.concat(centrals)
  const tail = Buffer.from(record)
  tail.writeUInt16LE(centrals.length, 8)
  tail.writeUInt16LE(centrals.length, 10)
  tail.writeUInt32LE(cd.length, 12)
  tail.writeUInt32LE(offset, 16)
  tail.writeUInt16LE(0, 20) // no comment (git archive's commit id comment belongs to the old layout)
  await write(cd)
  await write(tail)
}

/** The archive with its single top folder removed from every entry name. */
export async function stripTopFolder(zip: Buffer): Promise<Buffer> {
  const out: Buffer[] = []
  await strip(bufferSource(zip), (b) => {
    out.push(Buffer.from(b))
    return Promise.resolve()
  })
  return Buffer.concat(out)
}

/** `stripTopFolder` from file to a new (owner-only) file, streaming. */
export async function stripTopFolderFile(src: string, dest: string): Promise<void> {
  const reader = await WindowedReader.open(src)
  try {
    const fh = await open(dest, 'wx', 0o600)
    try {
      const w = new BufferedWriter(fh)
      await strip(reader, (b) => w.write(b))
      await w.flush()
    } finally {
      await fh.close()
    }
  } finally {
    await reader.close()
  }
}
