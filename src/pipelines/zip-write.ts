/**
 * @module pipelines/zip-write
 * Writes a plain zip archive file by file, streaming: each file is read in 1 MiB pieces and
 * deflated by zlib on the thread pool (files whose start does not compress are stored), and the
 * local header is patched with the CRC and sizes once the data is written. Memory stays at a few
 * MiB and the event loop only moves buffers, whatever the files' sizes.
 */
import { pipeline } from 'node:stream/promises'
import { promisify } from 'node:util'
import { crc32, createDeflateRaw, deflateRaw } from 'node:zlib'
import type { FileHandle } from 'node:fs/promises'
import { BufferedWriter } from './file-io.js'

const LOCAL = 0x04034b50
const CENTRAL = 0x02014b50
const END = 0x06054b50
const CHUNK = 1024 * 1024
/** Files up to this size are deflated in one call; larger ones as a stream. */
const WHOLE = 1024 * 1024
/** How much of a large file is tried to decide between deflating and storing it. */
const SAMPLE = 256 * 1024
const deflateAsync = promisify(deflateRaw)

/** Something the zip format cannot hold (too many files, 4 GiB or more). */
export class ZipLimitError extends Error {}

export class ZipWriter {
  readonly #w: BufferedWriter
  readonly #centrals: Buffer[] = []
  #count = 0

  constructor(fh: FileHandle) {
    this.#w = new BufferedWriter(fh)
  }

  /**
   * Adds the regular file open as `src` under `name`, with Unix `mode`; `count(n)` is told of
   * every n bytes read (it throws to stop). Returns the bytes read.
   */
  async add(
    name: string,
    src: FileHandle,
    mode: number,
    size: number,
    count: (n: number) => void,
  ): Promise<number> {
    if (this.#count === 0xffff)
      throw new ZipLimitError('An artifact holds at most 65,535 files (plain zip)')
    const nameBuf = Buffer.from(name, 'utf8')
    const at = this.#w.position
    let crc = 0
    let read = 0
    let packed = 0
    let method: 0 | 8
    const header = Buffer.alloc(30)
    const writeHeader = async () => {
      header.writeUInt32LE(LOCAL, 0)
      header.writeUInt16LE(20, 4)
      header.writeUInt16LE(0x0800, 6) // names in UTF-8
      header.writeUInt16LE(method, 8)
      header.writeUInt16LE(nameBuf.length, 26)
      await this.#w.write(Buffer.concat([header, nameBuf]))
    }
    const chunks = async function* (first?: Buffer) {
      if (first) yield first
      for (;;) {
        const buf = Buffer.allocUnsafe(CHUNK)
        const { bytesRead } = await src.read(buf, 0, CHUNK, null)
        if (bytesRead === 0) return
        const c = buf.subarray(0, bytesRead)
        count(bytesRead)
        crc = crc32(c, crc)
        read += bytesRead
        yield c
      }
    }
    if (size <= WHOLE) {
      // Small files: read whole, deflate once, keep whichever is smaller.
      const parts: Buffer[] = []
      for await (const c of chunks()) parts.push(c)
      const data = Buffer.concat(parts)
      const deflated = data.length > 0 ? await deflateAsync(data) : data
      method = deflated.length < data.length ? 8 : 0
      const body = method === 8 ? deflated : data
      await writeHeader()
      await this.#w.write(body)
      packed = body.length
    } else {
      // Large files: try the start; store what does not compress (archives, media, random).
      const buf = Buffer.allocUnsafe(SAMPLE)
      const { bytesRead } = await src.read(buf, 0, SAMPLE, null)
      const sample = buf.subarray(0, bytesRead)
      count(bytesRead)
      crc = crc32(sample, crc)
      read += bytesRead
      method = (await deflateAsync(sample)).length < sample.length * 0.9 ? 8 : 0
      await writeHeader()
      const sink = async (source: AsyncIterable<Buffer>) => {
        for await (const c of source) {
          packed += c.length
          await this.#w.write(c)
        }
      }
      if (method === 8)
        await pipeline(chunks(sample), createDeflateRaw({ chunkSize: 256 * 1024 }), sink)
      else await sink(chunks(sample))
    }
    if (this.#w.position >= 0xffffffff)
      throw new ZipLimitError('An artifact must stay below 4 GiB (plain zip)')
    header.writeUInt32LE(crc, 14)
    header.writeUInt32LE(packed, 18)
    header.writeUInt32LE(read, 22)
    await this.#w.patch(at, header)
    const central = Buffer.alloc(46)
    central.writeUInt32LE(CENTRAL, 0)
    central.writeUInt16LE(0x031e, 4) // made by Unix, zip 3.0
    central.writeUInt16LE(20, 6)
    central.writeUInt16LE(0x0800, 8)
    central.writeUInt16LE(method, 10)
    central.writeUInt32LE(crc, 16)
    central.writeUInt32LE(packed, 20)
    central.writeUInt32LE(read, 24)
    central.writeUInt16LE(nameBuf.length, 28)
    central.writeUInt32LE(((0o100000 | (mode & 0o777)) << 16) >>> 0, 38)
    central.writeUInt32LE(at, 42)
    this.#centrals.push(central, nameBuf)
    this.#count++
    return read
  }

  /** Writes the central directory and the end record, and flushes. */
  async finish(): Promise<void> {
    const cd = Buffer.concat(this.#centrals)
    const offset = this.#w.position
    if (offset + cd.length + 22 >= 0xffffffff)
      throw new ZipLimitError('An artifact must stay below 4 GiB (plain zip)')
    const end = Buffer.alloc(22)
    end.writeUInt32LE(END, 0)
    end.writeUInt16LE(this.#count, 8)
    end.writeUInt16LE(this.#count, 10)
    end.writeUInt32LE(cd.length, 12)
    end.writeUInt32LE(offset, 16)
    await this.#w.write(cd)
    await this.#w.write(end)
    await this.#w.flush()
  }
}
