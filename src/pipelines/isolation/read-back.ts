/**
 * @module pipelines/isolation/read-back
 * Reading a file a build wrote, as root, without letting the build choose what is read: a
 * symbolic link (to `master.key`, say) is refused rather than followed, a FIFO or device is not a
 * regular file, and only the first `max` bytes are read.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs'

/** The file's text, or '' when it is missing, not a regular file, or a symbolic link. */
export function readBuildFile(path: string, max: number): string {
  let fd: number
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  } catch {
    return ''
  }
  try {
    if (!fstatSync(fd).isFile()) return ''
    const buf = Buffer.alloc(max)
    let n = 0
    for (;;) {
      const got = readSync(fd, buf, n, max - n, null)
      if (got === 0) break
      n += got
      if (n === max) break
    }
    return buf.subarray(0, n).toString('utf8')
  } finally {
    closeSync(fd)
  }
}
