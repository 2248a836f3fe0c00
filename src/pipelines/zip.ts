/**
 * @module pipelines/zip
 * Provider archives put every file under one top folder (Bitbucket: `<ws>-<repo>-<sha>/`); a
 * `CODE_ZIP` source artifact holds the tree at its root. `stripTopFolder` rewrites the archive's
 * entry names and offsets without decompressing anything, so it runs at copying speed. Plain
 * (non-ZIP64) archives only: more than 65,535 entries or 4 GiB is refused with a clear error.
 */

const LOCAL = 0x04034b50
const CENTRAL = 0x02014b50
const END = 0x06054b50
const DESCRIPTOR = 0x08074b50

export class ZipFormatError extends Error {}

interface Entry {
  name: Buffer
  central: Buffer
  localOffset: number
  compressedSize: number
  flags: number
}

function findEnd(zip: Buffer): number {
  // The end record is at least 22 bytes and may be followed by a comment of up to 65,535 bytes.
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--)
    if (zip.readUInt32LE(i) === END) return i
  throw new ZipFormatError('Not a zip archive: no end-of-central-directory record')
}

/** The archive with its single top folder removed from every entry name. */
export function stripTopFolder(zip: Buffer): Buffer {
  const end = findEnd(zip)
  const count = zip.readUInt16LE(end + 10)
  const cdSize = zip.readUInt32LE(end + 12)
  const cdOffset = zip.readUInt32LE(end + 16)
  if (count === 0xffff || cdOffset === 0xffffffff || cdSize === 0xffffffff)
    throw new ZipFormatError('ZIP64 archives are not supported')
  if (cdOffset + cdSize > end)
    throw new ZipFormatError('The central directory lies outside the archive')
  const entries: Entry[] = []
  let p = cdOffset
  for (let i = 0; i < count; i++) {
    if (p + 46 > end || zip.readUInt32LE(p) !== CENTRAL)
      throw new ZipFormatError('A central directory entry is damaged')
    const nameLen = zip.readUInt16LE(p + 28)
    const extraLen = zip.readUInt16LE(p + 30)
    const commentLen = zip.readUInt16LE(p + 32)
    const size = 46 + nameLen + extraLen + commentLen
    entries.push({
      name: zip.subarray(p + 46, p + 46 + nameLen),
      central: zip.subarray(p, p + size),
      localOffset: zip.readUInt32LE(p + 42),
      compressedSize: zip.readUInt32LE(p + 20),
      flags: zip.readUInt16LE(p + 8),
    })
    p += size
  }
  if (entries.length === 0) return zip
  const first = entries[0]!.name.toString('utf8')
  const slash = first.indexOf('/')
  const prefix = slash >= 0 ? first.slice(0, slash + 1) : ''
  if (!prefix || !entries.every((e) => e.name.toString('utf8').startsWith(prefix)))
    throw new ZipFormatError('The archive has no single top folder to remove')
  const cut = Buffer.byteLength(prefix)
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  for (const e of entries) {
    if (e.name.length === cut) continue // the top folder itself
    const l = e.localOffset
    if (l + 30 > cdOffset || zip.readUInt32LE(l) !== LOCAL)
      throw new ZipFormatError('A local file header is damaged')
    const lNameLen = zip.readUInt16LE(l + 26)
    const lExtraLen = zip.readUInt16LE(l + 28)
    const dataStart = l + 30 + lNameLen + lExtraLen
    let dataEnd = dataStart + e.compressedSize
    if (e.flags & 0x08) dataEnd += zip.readUInt32LE(dataEnd) === DESCRIPTOR ? 16 : 12
    if (dataEnd > cdOffset) throw new ZipFormatError('A file runs past the central directory')
    const header = Buffer.from(zip.subarray(l, l + 30))
    header.writeUInt16LE(lNameLen - cut, 26)
    locals.push(header, zip.subarray(l + 30 + cut, dataStart), zip.subarray(dataStart, dataEnd))
    const central = Buffer.from(e.central)
    central.writeUInt16LE(e.name.length - cut, 28)
    central.writeUInt32LE(offset, 42)
    centrals.push(Buffer.concat([central.subarray(0, 46), central.subarray(46 + cut)]))
    offset += 30 + (lNameLen - cut) + lExtraLen + (dataEnd - dataStart)
  }
  const cd = Buffer.concat(centrals)
  const tail = Buffer.from(zip.subarray(end, end + 22))
  tail.writeUInt16LE(centrals.length, 8)
  tail.writeUInt16LE(centrals.length, 10)
  tail.writeUInt32LE(cd.length, 12)
  tail.writeUInt32LE(offset, 16)
  tail.writeUInt16LE(0, 20) // no comment (git archive's commit id comment belongs to the old layout)
  return Buffer.concat([...locals, cd, tail])
}
