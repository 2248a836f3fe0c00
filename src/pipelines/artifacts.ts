/**
 * @module pipelines/artifacts
 * The artifact store (a folder under the data directory) and the two zip operations actions need,
 * both streaming from and to disk (the event loop only moves buffers; zlib works on the thread
 * pool) and both capped at the operator's `--max-artifact-size`:
 *
 * - extracting an input artifact into a working directory: stored and deflated entries, Unix
 *   modes kept, nothing written outside the directory, never more than the cap in all;
 * - zipping the files an action declares as an output artifact: regular files only, each opened
 *   without following links and checked (through the open descriptor) to lie inside the working
 *   directory, so a build cannot slip a link to a file of Junction's into its artifact. A link the
 *   globs match is skipped and named in the log. The zip is written under a temporary name and
 *   renamed when complete: a failed artifact leaves nothing behind.
 */
import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import {
  chmod,
  mkdir,
  open,
  readdir,
  readlink,
  realpath,
  rename,
  rm,
  type FileHandle,
} from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { promisify } from 'node:util'
import { crc32, createInflateRaw, inflateRaw } from 'node:zlib'
import { mib, TooLargeError, WindowedReader } from './file-io.js'
import { GlobSet } from './glob.js'
import { inside, isInside, segment } from './paths.js'
import { localData, readCentral, readEnd, ZipFormatError } from './zip.js'
import { ZipLimitError, ZipWriter } from './zip-write.js'

const inflateAsync = promisify(inflateRaw)
/** Entries of at most this much data (compressed and inflated) are inflated in one call. */
const WHOLE = 1024 * 1024

/**
 * Extracts the zip at `zipPath` into `dir`; refuses entries that would land outside it and stops
 * (TooLargeError) once the files would hold more than `maxBytes`. Returns the file count.
 */
export async function extractZip(
  zipPath: string,
  dir: string,
  maxBytes = Number.MAX_SAFE_INTEGER,
  label = 'The artifact',
): Promise<number> {
  const root = resolve(dir)
  const src = await WindowedReader.open(zipPath)
  try {
    const { cdOffset } = await readEnd(src)
    const entries = await readCentral(src)
    let total = 0
    let files = 0
    const made = new Set<string>()
    const folder = async (path: string) => {
      if (made.has(path)) return
      await mkdir(path, { recursive: true })
      made.add(path)
    }
    const tooLarge = () =>
      new TooLargeError(
        maxBytes,
        `${label} expands to more than the limit of ${mib(maxBytes)} (the operator's --max-artifact-size)`,
      )
    for (const e of entries) {
      const name = e.name.toString('utf8')
      const target = resolve(root, name)
      if (name.includes('\0') || (target !== root && !isInside(root, target)))
        throw new ZipFormatError(
          `Entry ${name.slice(0, 200)} would be written outside the directory`,
        )
      if (name.endsWith('/')) {
        await folder(target)
        continue
      }
      if (e.method !== 0 && e.method !== 8)
        throw new ZipFormatError(`Entry ${name.slice(0, 200)} uses compression method ${e.method}`)
      if (total + e.size > maxBytes) throw tooLarge()
      const { start, end } = await localData(src, e, cdOffset)
      await folder(dirname(target))
      // A new file, never through an existing name (a duplicate entry is refused).
      const out = await open(target, 'wx').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'EEXIST' || err.code === 'EISDIR' || err.code === 'ENOTDIR')
          throw new ZipFormatError(`Entry ${name.slice(0, 200)} appears twice`)
        throw err
      })
      let written = 0
      let crc = 0
      const take = async (b: Buffer) => {
        written += b.length
        if (written > e.size)
          throw new ZipFormatError(`Entry ${name.slice(0, 200)} holds more than its stated size`)
        if (total + written > maxBytes) throw tooLarge()
        crc = crc32(b, crc)
        await writeAll(out, b)
      }
      try {
        if (e.method === 0) for await (const piece of src.range(start, end)) await take(piece)
        else if (e.size <= WHOLE && end - start <= WHOLE)
          await take(
            await inflateAsync(Buffer.from(await src.read(start, end - start)), {
              maxOutputLength: Math.max(1, e.size),
            }).catch((err: NodeJS.ErrnoException) => {
              if (err.code === 'ERR_BUFFER_TOO_LARGE')
                throw new ZipFormatError(
                  `Entry ${name.slice(0, 200)} holds more than its stated size`,
                )
              throw err
            }),
          )
        else
          await pipeline(
            Readable.from(src.range(start, end)),
            createInflateRaw({ chunkSize: 256 * 1024 }),
            new Writable({
              write(chunk: Buffer, _enc, done) {
                take(chunk).then(() => done(), done)
              },
            }),
          )
      } finally {
        await out.close()
      }
      if (written !== e.size || crc !== e.crc)
        throw new ZipFormatError(`Entry ${name.slice(0, 200)} is damaged (size or CRC differs)`)
      total += written
      const mode = (e.external >>> 16) & 0o777
      if (mode) await chmod(target, mode)
      files++
    }
    return files
  } finally {
    await src.close()
  }
}

async function writeAll(fh: FileHandle, b: Buffer): Promise<void> {
  for (let done = 0; done < b.length;)
    done += (await fh.write(b, done, b.length - done)).bytesWritten
}

/** Files under `dir` (relative, `/`-separated, sorted) matching `patterns`, and matching links. */
export async function matchFiles(
  dir: string,
  patterns: string[],
): Promise<{ files: string[]; links: string[] }> {
  const set = new GlobSet(patterns)
  const files: string[] = []
  const links: string[] = []
  const walk = async (rel: string) => {
    const entries = await readdir(rel ? inside(dir, ...rel.split('/')) : dir, {
      withFileTypes: true,
    })
    for (const e of entries) {
      const path = rel ? `${rel}/${e.name}` : e.name
      // Dirent types come from lstat: a link is never followed, to a folder or to a file.
      if (e.isDirectory()) await walk(path)
      else if (set.match(path) === undefined) continue
      else if (e.isFile()) files.push(path)
      else if (e.isSymbolicLink()) links.push(path)
    }
  }
  await walk('')
  return { files: files.sort(), links: links.sort() }
}

/** Opens `rel` under `root` (a real path) for reading, only if it is a regular file inside it. */
async function openInside(root: string, rel: string): Promise<FileHandle | undefined> {
  let fh: FileHandle
  try {
    fh = await open(
      inside(root, ...rel.split('/')),
      constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK,
    )
  } catch {
    return undefined // gone, or turned into a link since the walk
  }
  try {
    // Where the descriptor really points: a folder swapped for a link on the way is caught here.
    const real = await readlink(`/proc/self/fd/${fh.fd}`).catch(() =>
      realpath(inside(root, ...rel.split('/'))),
    )
    if (isInside(root, real) && (await fh.stat()).isFile()) return fh
  } catch {
    // Treated as not there.
  }
  await fh.close()
  return undefined
}

/**
 * Zips the files of `work` matching `patterns` into `<dir>/<name>.zip`, at most `maxBytes` of
 * them (uncompressed). A failure the user can act on comes back as `failure` (and leaves no file);
 * `note` is told of links skipped.
 */
export async function writeOutputArtifact(
  work: string,
  artifact: { name: string; files?: string[] },
  dir: string,
  maxBytes: number,
  note: (line: string) => void,
): Promise<{ path: string } | { failure: string; code: string }> {
  const patterns = artifact.files ?? []
  // The folder's own name is not resolved: had it become a link, nothing would lie inside it.
  const root = join(await realpath(dirname(work)), basename(work))
  const { files, links } = await matchFiles(root, patterns)
  for (const l of links)
    note(`[junction] ${artifact.name}: skipped ${l}, a symbolic link (links are not followed)\n`)
  if (files.length === 0)
    return {
      failure: `Output artifact ${artifact.name}: no file matches ${patterns.join(', ')}`,
      code: 'JobFailed',
    }
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const base = segment(artifact.name)
  const path = inside(dir, `${base}.zip`)
  const partial = inside(dir, `.${base}.partial-${randomBytes(6).toString('hex')}`)
  const fh = await open(partial, 'wx', 0o600)
  let done = false
  try {
    const zip = new ZipWriter(fh)
    let total = 0
    let added = 0
    const count = (n: number) => {
      total += n
      if (total > maxBytes)
        throw new TooLargeError(
          maxBytes,
          `Output artifact ${artifact.name} is larger than the limit of ${mib(maxBytes)} (the operator's --max-artifact-size)`,
        )
    }
    for (const f of files) {
      const src = await openInside(root, f)
      if (!src) {
        note(`[junction] ${artifact.name}: skipped ${f}, which changed while it was collected\n`)
        continue
      }
      try {
        const st = await src.stat()
        if (total + st.size > maxBytes) count(st.size)
        await zip.add(f, src, st.mode, st.size, count)
        added++
      } finally {
        await src.close()
      }
    }
    if (added === 0)
      return {
        failure: `Output artifact ${artifact.name}: no file matches ${patterns.join(', ')}`,
        code: 'JobFailed',
      }
    await zip.finish()
    await fh.close()
    await rename(partial, path)
    done = true
    return { path }
  } catch (err) {
    if (err instanceof TooLargeError) return { failure: err.message, code: 'ArtifactTooLarge' }
    if (err instanceof ZipLimitError)
      return {
        failure: `Output artifact ${artifact.name}: ${err.message}`,
        code: 'ArtifactTooLarge',
      }
    throw err
  } finally {
    if (!done) {
      await fh.close().catch(() => {})
      await rm(partial, { force: true })
    }
  }
}
