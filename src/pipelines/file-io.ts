/**
 * @module pipelines/file-io
 * Moving artifacts between disk and the network without holding them in memory or blocking the
 * event loop: a reader that serves positional reads through a window (many small reads, one
 * system call), a writer that batches writes, and a download to a file with a size cap. All I/O
 * is asynchronous; memory stays at a few MiB whatever the artifact's size.
 */
import { open, rm, type FileHandle } from 'node:fs/promises'

const WINDOW = 4 * 1024 * 1024

/** More bytes than a limit allows (the caller names the limit and its flag). */
export class TooLargeError extends Error {
  constructor(
    readonly limit: number,
    message: string,
  ) {
    super(message)
  }
}

export const mib = (bytes: number): string => `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB`

/** Positional reads of a file, served from a window read ahead sequentially. */
export class WindowedReader {
  #window = Buffer.alloc(0)
  #at = 0
  private constructor(
    readonly fh: FileHandle,
    readonly size: number,
  ) {}

  static async open(path: string): Promise<WindowedReader> {
    const fh = await open(path, 'r')
    try {
      return new WindowedReader(fh, (await fh.stat()).size)
    } catch (err) {
      await fh.close()
      throw err
    }
  }

  /**
   * `len` bytes at `pos` (fewer at the end of the file). The buffer may be a view of the window:
   * use it before the next read.
   */
  async read(pos: number, len: number): Promise<Buffer> {
    if (pos >= this.#at && pos + len <= this.#at + this.#window.length)
      return this.#window.subarray(pos - this.#at, pos - this.#at + len)
    if (len > WINDOW) {
      const buf = Buffer.allocUnsafe(len)
      const { bytesRead } = await this.fh.read(buf, 0, len, pos)
      return buf.subarray(0, bytesRead)
    }
    const buf = Buffer.allocUnsafe(WINDOW)
    const { bytesRead } = await this.fh.read(buf, 0, WINDOW, pos)
    this.#window = buf.subarray(0, bytesRead)
    this.#at = pos
    return this.#window.subarray(0, Math.min(len, bytesRead))
  }

  /** The bytes from `start` to `end` (exclusive), in pieces of at most the window's size. */
  async *range(start: number, end: number): AsyncGenerator<Buffer> {
    for (let p = start; p < end;) {
      const piece = await this.read(p, Math.min(WINDOW, end - p))
      if (piece.length === 0) throw new Error('The file ended early')
      yield piece
      p += piece.length
    }
  }

  close(): Promise<void> {
    return this.fh.close()
  }
}

/** Sequential writes batched into large ones; `patch` rewrites bytes already written. */
export class BufferedWriter {
  #buf = Buffer.allocUnsafe(WINDOW)
  #used = 0
  /** Bytes handed to the file so far (the position of the buffer's first byte). */
  #flushed = 0
  constructor(readonly fh: FileHandle) {}

  /** The position of the next byte written. */
  get position(): number {
    return this.#flushed + this.#used
  }

  async write(b: Buffer): Promise<void> {
    if (this.#used + b.length > this.#buf.length) await this.flush()
    if (b.length > this.#buf.length) {
      await this.#writeAll(b, this.#flushed)
      this.#flushed += b.length
      return
    }
    b.copy(this.#buf, this.#used)
    this.#used += b.length
  }

  /** Overwrites bytes at `pos`, which were written as part of one `write` call. */
  async patch(pos: number, b: Buffer): Promise<void> {
    if (pos >= this.#flushed) b.copy(this.#buf, pos - this.#flushed)
    else await this.#writeAll(b, pos)
  }

  async flush(): Promise<void> {
    if (this.#used === 0) return
    await this.#writeAll(this.#buf.subarray(0, this.#used), this.#flushed)
    this.#flushed += this.#used
    this.#used = 0
  }

  async #writeAll(b: Buffer, pos: number): Promise<void> {
    for (let done = 0; done < b.length;) {
      const { bytesWritten } = await this.fh.write(b, done, b.length - done, pos + done)
      done += bytesWritten
    }
  }
}

/**
 * Writes `stream` to a new file at `dest` (owner-only); refuses with TooLargeError, deleting what
 * was written, once more than `maxBytes` arrive. Returns the byte count.
 */
export async function downloadTo(
  stream: ReadableStream<Uint8Array>,
  dest: string,
  maxBytes: number,
  tooLarge: () => string,
): Promise<number> {
  const fh = await open(dest, 'wx', 0o600)
  const w = new BufferedWriter(fh)
  let ok = false
  try {
    const reader = stream.getReader()
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        if (w.position + value.length > maxBytes) throw new TooLargeError(maxBytes, tooLarge())
        await w.write(Buffer.from(value.buffer, value.byteOffset, value.byteLength))
      }
    } finally {
      // Stops the transfer when we give up early; harmless after the end.
      await reader.cancel().catch(() => {})
    }
    await w.flush()
    ok = true
    return w.position
  } finally {
    await fh.close()
    if (!ok) await rm(dest, { force: true })
  }
}
