/**
 * @module server/logging
 * The process logger: pino, JSON lines (the default off a terminal) or a pretty, human form (the
 * default on one), `--log-level`, and the request id of the request being served in every line
 * written while serving it (the HTTP front door runs each request in {@link requestScope}; the
 * modules below it log through the same logger without knowing about requests).
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { pino, type DestinationStream, type Logger } from 'pino'

export type LogFormat = 'json' | 'pretty'

/** The mixin's "nothing to add" (never merged into, so it stays empty). */
const NONE = Object.freeze({})

/** The id of the request being served, where there is one (see http.ts). */
export const requestScope = new AsyncLocalStorage<string>()

export interface ProcessLogger {
  logger: Logger
  /** Writes buffered lines out synchronously (before the process exits). */
  flush(): void
}

/**
 * `json`: buffered asynchronous writes to fd 1 (under load lines leave in 4 KiB batches instead of
 * one write(2) per request; a timer flushes a partial buffer within 200 ms so an idle server's log
 * stays current). `pretty`: one formatted line per entry, written at once (a terminal).
 */
export function createLogger(o: {
  level: string
  format: LogFormat
  /** Where pretty lines go (default stdout); colours when it is a terminal. */
  out?: NodeJS.WritableStream & { isTTY?: boolean }
}): ProcessLogger {
  const options = {
    level: o.level,
    base: { svc: 'junction' },
    // A line logged while a request is served carries its id. The request's own line names it
    // already: no object is made then, nor outside a request (see mixinMergeStrategy).
    mixin: (line: object) => {
      if ((line as { reqId?: unknown }).reqId !== undefined) return NONE
      const reqId = requestScope.getStore()
      return reqId === undefined ? NONE : { reqId }
    },
    mixinMergeStrategy: (line: object, mixed: object) =>
      mixed === NONE ? line : Object.assign(mixed, line),
  }
  if (o.format === 'pretty') {
    const out = o.out ?? process.stdout
    const stream: DestinationStream = {
      write: (line) => void out.write(prettyLine(line, out.isTTY === true)),
    }
    return { logger: pino(options, stream), flush: () => {} }
  }
  const destination = pino.destination({ dest: 1, sync: false, minLength: 4096 })
  const timer = setInterval(() => destination.flush(), 200).unref()
  return {
    logger: pino(options, destination),
    flush() {
      clearInterval(timer)
      try {
        destination.flushSync()
      } catch {
        // Not yet open or already closed: nothing buffered to lose.
      }
    },
  }
}

/** `--log-format`: as given, else pretty on a terminal and JSON otherwise. */
export const logFormatFor = (given: LogFormat | undefined, isTTY: boolean | undefined): LogFormat =>
  given ?? (isTTY ? 'pretty' : 'json')

const LEVELS: Record<number, [string, string]> = {
  10: ['TRACE', '90'],
  20: ['DEBUG', '36'],
  30: ['INFO ', '32'],
  40: ['WARN ', '33'],
  50: ['ERROR', '31'],
  60: ['FATAL', '35'],
}
/** Shown first, in this order, after the message; the rest follow as they come. */
const FIRST = ['reqId', 'op', 'status', 'ms', 'error', 'service', 'principal']
const HIDDEN = new Set(['level', 'time', 'msg', 'svc', 'pid', 'hostname', 'err'])

/**
 * One JSON line as `12:04:05.123 INFO  request reqId=… op=GetConnection status=200 ms=0.4`, an
 * error's stack indented below it. A line that is not JSON passes through unchanged.
 */
export function prettyLine(json: string, colour: boolean): string {
  let e: Record<string, unknown>
  try {
    e = JSON.parse(json) as Record<string, unknown>
  } catch {
    return json
  }
  const time = typeof e['time'] === 'number' ? new Date(e['time']).toISOString().slice(11, 23) : ''
  const [name, code] = LEVELS[e['level'] as number] ?? [String(e['level']).padEnd(5), '0']
  const level = colour ? `\x1b[${code}m${name}\x1b[0m` : name
  const fields: string[] = []
  const show = (k: string) => {
    const v = e[k]
    if (v === undefined || HIDDEN.has(k)) return
    const text = typeof v === 'string' ? v : JSON.stringify(v)
    fields.push(`${k}=${/[\s"=]/.test(text) ? JSON.stringify(text) : text}`)
  }
  for (const k of FIRST) show(k)
  for (const k of Object.keys(e)) if (!FIRST.includes(k)) show(k)
  let line = `${time} ${level} ${typeof e['msg'] === 'string' ? e['msg'] : ''}`
  if (fields.length) line += ` ${fields.join(' ')}`
  const err = e['err'] as { message?: string; stack?: string } | undefined
  if (err)
    line += `\n    ${(err.stack ?? err.message ?? JSON.stringify(err)).split('\n').join('\n    ')}`
  return `${line}\n`
}
