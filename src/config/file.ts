/**
 * @module config/file
 * Reads a configuration file (`junction serve --config junction.yaml`): YAML 1.2 (so JSON too),
 * one flat map from setting keys (`config/keys.ts`: the flag names, and `<secret>-file`) to
 * values. Everything else is refused with the line it is on, so a typo never silently leaves a
 * default in place: a key Junction does not know (naming the nearest one it does), a key given
 * twice, a value of the wrong type or none, a nested map or a list, several documents.
 *
 * Numbers are taken as written (`account-id: 000000000000` keeps its zeros; YAML would read 0).
 */
import { readFileSync, statSync } from 'node:fs'
import { isMap, isScalar, LineCounter, parseDocument, type Node } from 'yaml'
import { ConfigError } from '../config.js'
import { FILE_KEYS } from './keys.js'

export interface FileValue {
  value: string | boolean
  line: number
}

export interface ConfigFile {
  /** As given (messages name it so). */
  path: string
  values: Map<string, FileValue>
  /** Its permission bits (a file holding secrets should be owner-only). */
  mode: number
}

/** Reads and checks `path`; a ConfigError names `path:line` of the first problem. */
export function readConfigFile(path: string): ConfigFile {
  let text: string
  let mode: number
  try {
    text = readFileSync(path, 'utf8')
    mode = statSync(path).mode & 0o777
  } catch (err) {
    throw new ConfigError(
      `cannot read the configuration file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
    )
  }
  const fail = (line: number, message: string) => new ConfigError(`${path}:${line}: ${message}`)
  const lines = new LineCounter()
  // Duplicates are found below, to name both lines.
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false, prettyErrors: true })
  const syntax = doc.errors[0]
  if (syntax) {
    const first = syntax.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')
    throw fail(syntax.linePos?.[0].line ?? 1, first)
  }
  const lineOf = (node: Node | null | undefined, fallback = 1) =>
    node?.range ? lines.linePos(node.range[0]).line : fallback
  const values = new Map<string, FileValue>()
  const contents = doc.contents
  if (contents === null || (isScalar(contents) && contents.value === null))
    return { path, values, mode }
  if (!isMap(contents))
    throw fail(lineOf(contents), 'the file must be a map of settings (key: value), one per line')
  for (const pair of contents.items) {
    const keyNode = pair.key as Node | null
    const line = lineOf(keyNode)
    if (!isScalar(keyNode) || typeof keyNode.value !== 'string')
      throw fail(line, 'a key must be a setting name (a flag of junction serve without --)')
    const key = keyNode.value
    const known = FILE_KEYS.get(key)
    if (!known) {
      const near = nearest(key)
      throw fail(line, `unknown key '${key}'${near ? ` (did you mean '${near}'?)` : ''}`)
    }
    const before = values.get(key)
    if (before) throw fail(line, `duplicate key '${key}' (first on line ${before.line})`)
    const type = known.isFile ? 'string' : known.setting.type
    values.set(key, { value: valueOf(key, type, pair.value as Node | null, line, fail), line })
  }
  return { path, values, mode }
}

function valueOf(
  key: string,
  type: 'string' | 'boolean',
  node: Node | null,
  line: number,
  fail: (line: number, message: string) => ConfigError,
): string | boolean {
  if (!isScalar(node)) {
    if (node === null) throw fail(line, `${key} has no value (leave the key out for the default)`)
    throw fail(line, `${key} takes a single value, not a ${isMap(node) ? 'map' : 'list'}`)
  }
  const v = node.value
  if (v === null) throw fail(line, `${key} has no value (leave the key out for the default)`)
  if (type === 'boolean') {
    if (typeof v !== 'boolean') throw fail(line, `${key} must be true or false, got '${String(v)}'`)
    return v
  }
  if (typeof v === 'string') {
    if (v === '') throw fail(line, `${key} is empty (leave the key out for the default)`)
    return v
  }
  if (typeof v === 'number' || typeof v === 'bigint') return node.source ?? String(v)
  throw fail(line, `${key} takes a value, not ${String(v)} (quote it to mean the text)`)
}

/** The known key nearest to a misspelt one, if one is close. */
function nearest(key: string): string | undefined {
  const k = key.toLowerCase().replace(/_/g, '-')
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of FILE_KEYS.keys()) {
    const d = distance(k, candidate)
    if (d < bestDistance) [best, bestDistance] = [candidate, d]
  }
  return bestDistance <= Math.max(2, Math.floor(k.length / 4)) ? best : undefined
}

/** Edit distance counting a swap of two neighbours as one edit (optimal string alignment). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  )
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1)
      d[i]![j] = v
    }
  return d[a.length]![b.length]!
}
