/**
 * @module bootstrap/private-files
 * Everything Junction writes is owner-only: folders 0700, files 0600. `junction` sets the process
 * umask to 077 at start (so files created anywhere, by any library or child, get no group or
 * other bits), and the places that create Junction's own files also say so explicitly, because a
 * library (or a test) may run Junction in a process whose umask is looser. Files and folders of
 * Junction's own that already exist with looser modes (an older version, a copy) are tightened.
 */
import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs'

/** The umask `junction` runs with: no bits for group and others. */
export const PRIVATE_UMASK = 0o077

/** Removes group and other bits from an existing file or folder this process owns. */
export function tighten(path: string): void {
  let st
  try {
    st = statSync(path)
  } catch {
    return
  }
  const uid = process.getuid?.()
  if ((st.mode & 0o077) !== 0 && (uid === undefined || uid === st.uid))
    chmodSync(path, st.mode & 0o700)
}

/** Creates the folder and its missing parents with mode 0700; tightens it if it existed. */
export function privateDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 })
  tighten(path)
}

/** Creates the file empty with mode 0600 when missing; tightens it if it existed. */
export function privateFile(path: string): void {
  closeSync(openSync(path, 'a', 0o600))
  tighten(path)
}
