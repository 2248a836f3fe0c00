/**
 * @module store/database-url
 * A PostgreSQL URL carries a password: it is shown only with the password replaced, and any
 * message that might quote it (a driver's error) is scrubbed before it reaches a log or a user.
 */

/** The password of a URL (as written and percent-decoded), or none. */
function passwordsOf(url: string): string[] {
  try {
    const raw = new URL(url).password
    if (!raw) return []
    let decoded = raw
    try {
      decoded = decodeURIComponent(raw)
    } catch {
      // Kept as written.
    }
    return [...new Set([raw, decoded])].filter((p) => p.length > 0)
  } catch {
    // Not a URL: find `:password@` by hand.
    const m = /^[a-z][a-z0-9+.-]*:\/\/[^:/@]*:([^@/]*)@/i.exec(url)
    return m?.[1] ? [m[1]] : []
  }
}

/** True when the URL has a password in it. */
export function hasPassword(url: string): boolean {
  return passwordsOf(url).length > 0
}

/** `text` with every occurrence of the URL's password replaced by `***`. */
export function scrub(text: string, url: string): string {
  let out = text
  for (const p of passwordsOf(url)) out = out.split(p).join('***')
  return out
}

/**
 * Rethrows `err` (from opening the database at `url`) with the password removed from its
 * message and stack; a URL that could not be parsed is not quoted at all.
 */
export function scrubbedError(err: unknown, url: string): Error {
  if ((err as { code?: string }).code === 'ERR_INVALID_URL')
    return new Error('The PostgreSQL database URL is not a valid URL')
  const e = err instanceof Error ? err : new Error(String(err))
  if (!passwordsOf(url).length) return e
  const clean = new Error(scrub(e.message, url))
  clean.stack = scrub(e.stack ?? clean.message, url)
  const code = (e as { code?: unknown }).code
  if (code !== undefined) Object.assign(clean, { code })
  return clean
}
