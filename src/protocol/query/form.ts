/**
 * @module protocol/query/form
 * Decodes an `application/x-www-form-urlencoded` Query request into a JSON-like input, driven by
 * a validation table: lists are `Name.member.N`, structures in lists `Name.member.N.Field`,
 * integers and booleans are parsed from their text. The result is then checked by the one
 * generic validator, so Query inputs get the same Coral-style messages as JSON ones.
 */
import { ValidationException } from '../../errors/common.js'
import type { ShapeRule, ValidationTable } from '../validation-types.js'

export function parseForm(body: string): Map<string, string> {
  const params = new Map<string, string>()
  for (const pair of body.split('&')) {
    if (!pair) continue
    const eq = pair.indexOf('=')
    const decode = (s: string) => {
      try {
        return decodeURIComponent(s.replace(/\+/g, ' '))
      } catch {
        throw new ValidationException(
          `The query string is not valid URL encoding: '${s.slice(0, 64)}'`,
        )
      }
    }
    params.set(decode(eq < 0 ? pair : pair.slice(0, eq)), eq < 0 ? '' : decode(pair.slice(eq + 1)))
  }
  return params
}

function decodeValue(
  table: ValidationTable,
  shapeName: string,
  params: Map<string, string>,
  name: string,
): unknown {
  const rule: ShapeRule | undefined = table.shapes[shapeName]
  if (!rule) throw new Error(`no rule for shape ${shapeName}`)
  switch (rule.type) {
    case 'structure': {
      const out: Record<string, unknown> = {}
      for (const [member, shape] of Object.entries(rule.members)) {
        const v = decodeValue(table, shape, params, name ? `${name}.${member}` : member)
        if (v !== undefined) out[member] = v
      }
      return name && Object.keys(out).length === 0 ? undefined : out
    }
    case 'list': {
      const items: unknown[] = []
      for (let i = 1; i <= 1000; i++) {
        const v = decodeValue(table, rule.member, params, `${name}.member.${i}`)
        if (v === undefined) break
        items.push(v)
      }
      // `Name=` with no members is an empty list.
      if (items.length === 0) return params.has(name) ? [] : undefined
      return items
    }
    case 'integer':
    case 'long': {
      const text = params.get(name)
      if (text === undefined) return undefined
      // Digits only: Number() would also take ' 1', '1 ', '0x10' and '1e2'.
      const n = /^-?\d{1,16}$/.test(text) ? Number(text) : NaN
      if (!Number.isSafeInteger(n))
        throw new ValidationException(`Value '${text.slice(0, 64)}' at '${name}' is not an integer`)
      return n
    }
    case 'boolean': {
      const text = params.get(name)
      if (text === undefined) return undefined
      if (text !== 'true' && text !== 'false')
        throw new ValidationException(`Value '${text.slice(0, 64)}' at '${name}' is not a boolean`)
      return text === 'true'
    }
    default:
      return params.get(name)
  }
}

/** Builds the operation's input from the form parameters. */
export function decodeQueryInput(
  table: ValidationTable,
  operation: string,
  params: Map<string, string>,
): Record<string, unknown> {
  const shape = table.operations[operation]
  if (!shape) return {}
  return decodeValue(table, shape, params, '') as Record<string, unknown>
}
