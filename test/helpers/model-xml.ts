/**
 * The Query protocol half of the model validator (model-shapes.ts): IAM and STS answer in XML,
 * which is read here element by element against the operation's output shape.
 */
import {
  BASE64,
  checkRange,
  checkSize,
  checkString,
  INT32,
  ISO8601,
  show,
  type Model,
  type ShapeRef,
} from './model-shapes.js'

/** An XML element: its name, child elements and text. */
export interface XmlElement {
  name: string
  children: XmlElement[]
  text: string
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }
const decodeXml = (s: string): string =>
  s.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);/g, (whole, e: string) =>
    e.startsWith('#x')
      ? String.fromCodePoint(parseInt(e.slice(2), 16))
      : e.startsWith('#')
        ? String.fromCodePoint(Number(e.slice(1)))
        : (ENTITIES[e] ?? whole),
  )

/** Parses the small XML documents the Query protocol answers with (no DTDs, no CDATA). */
export function parseXml(xml: string): XmlElement {
  const body = xml.replace(/^\s*<\?xml[^>]*\?>/, '')
  const stack: XmlElement[] = [{ name: '#document', children: [], text: '' }]
  const token =
    /<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|([^<]+)/gy
  let m: RegExpExecArray | null
  let at = 0
  while (at < body.length && (m = token.exec(body))) {
    at = token.lastIndex
    const top = stack[stack.length - 1]!
    if (m[5] !== undefined) {
      top.text += decodeXml(m[5])
    } else if (m[1]) {
      if (top.name !== m[2]) throw new Error(`XML: </${m[2]}> closes <${top.name}>`)
      stack.pop()
    } else {
      const el: XmlElement = { name: m[2]!, children: [], text: '' }
      top.children.push(el)
      if (!m[4]) stack.push(el)
    }
  }
  if (at !== body.length) throw new Error(`XML: cannot read at ${at}: ${body.slice(at, at + 40)}`)
  if (stack.length !== 1) throw new Error(`XML: <${stack[stack.length - 1]!.name}> is not closed`)
  const root = stack[0]!.children
  if (root.length !== 1) throw new Error('XML: expected one root element')
  return root[0]!
}

/**
 * Validates the result of a Query (IAM, STS) answer: `<{Op}Response>` holding `<{Op}Result>`
 * (the operation's `resultWrapper`, absent when the operation has no output) and
 * `<ResponseMetadata><RequestId>`, nothing else; the result against the output shape.
 */
export function validateQueryResponse(model: Model, operation: string, xml: string): string[] {
  const op = model.operations[operation]
  if (!op) throw new Error(`operation ${operation} is not in the model`)
  const out: string[] = []
  let root: XmlElement
  try {
    root = parseXml(xml)
  } catch (err) {
    return [`$: not well-formed XML: ${(err as Error).message}`]
  }
  if (root.name !== `${operation}Response`)
    out.push(`$: root element <${root.name}>, expected <${operation}Response>`)
  const wrapper = op.output?.resultWrapper ?? (op.output ? `${operation}Result` : undefined)
  for (const c of root.children) {
    if (c.name === 'ResponseMetadata') {
      if (!c.children.some((x) => x.name === 'RequestId' && x.text.length > 0))
        out.push('$.ResponseMetadata: no RequestId')
    } else if (c.name === wrapper) {
      walkXml(model, op.output!.shape, c, `$.${wrapper}`, out)
    } else out.push(`$.${c.name}: not part of a ${operation} answer`)
  }
  if (wrapper && !root.children.some((c) => c.name === wrapper))
    out.push(`$: no <${wrapper}> element`)
  if (!root.children.some((c) => c.name === 'ResponseMetadata'))
    out.push('$: no <ResponseMetadata> element')
  return out
}

/** Validates an XML element against `shapeName` (the Query protocol's serialization). */
export function validateXml(model: Model, shapeName: string, el: XmlElement, path = '$') {
  const out: string[] = []
  walkXml(model, shapeName, el, path, out)
  return out
}

function walkXml(model: Model, name: string, el: XmlElement, path: string, out: string[]): void {
  const shape = model.shapes[name]
  if (!shape) throw new Error(`shape ${name} is not in the model`)
  const scalar = (): string | undefined => {
    if (el.children.length) {
      out.push(`${path}: holds elements where ${name} is a ${shape.type}`)
      return undefined
    }
    return el.text
  }
  switch (shape.type) {
    case 'structure': {
      if (el.text.trim()) out.push(`${path}: text ${show(el.text)} in a structure (${name})`)
      const byElement = new Map<string, [string, ShapeRef]>()
      for (const [member, ref] of Object.entries(shape.members ?? {}))
        byElement.set(ref.locationName ?? member, [member, ref])
      const seen = new Set<string>()
      for (const c of el.children) {
        const found = byElement.get(c.name)
        if (!found) {
          out.push(`${path}.${c.name}: not a member of ${name}`)
          continue
        }
        const [member, ref] = found
        const flattened = ref.flattened || model.shapes[ref.shape]?.flattened
        if (seen.has(member) && !flattened) out.push(`${path}.${c.name}: appears more than once`)
        seen.add(member)
        walkXml(model, ref.shape, c, `${path}.${member}`, out)
      }
      for (const r of shape.required ?? [])
        if (!seen.has(r)) out.push(`${path}: required member ${r} is missing (${name})`)
      return
    }
    case 'list': {
      if (shape.flattened) {
        out.push(`${path}: flattened lists are not understood by this validator`)
        return
      }
      const item = shape.member!.locationName ?? 'member'
      checkSize(shape, el.children.length, path, out)
      el.children.forEach((c, i) => {
        if (c.name !== item) out.push(`${path}[${i}]: <${c.name}>, expected <${item}>`)
        else walkXml(model, shape.member!.shape, c, `${path}[${i}]`, out)
      })
      return
    }
    case 'map': {
      checkSize(shape, el.children.length, path, out)
      const keyName = shape.key!.locationName ?? 'key'
      const valueName = shape.value!.locationName ?? 'value'
      el.children.forEach((entry, i) => {
        const k = entry.children.find((c) => c.name === keyName)
        const v = entry.children.find((c) => c.name === valueName)
        if (entry.name !== 'entry' || !k || !v || entry.children.length !== 2) {
          out.push(`${path}[${i}]: not an <entry> with <${keyName}> and <${valueName}>`)
          return
        }
        walkXml(model, shape.key!.shape, k, `${path}{key ${show(k.text)}}`, out)
        walkXml(model, shape.value!.shape, v, `${path}[${show(k.text)}]`, out)
      })
      return
    }
    case 'string': {
      const s = scalar()
      if (s !== undefined) checkString(shape, s, path, out)
      return
    }
    case 'integer':
    case 'long': {
      const s = scalar()
      if (s === undefined) return
      if (!/^-?\d+$/.test(s)) return void out.push(`${path}: ${show(s)} is not an integer`)
      const n = Number(s)
      if (shape.type === 'integer' && (n < -INT32 || n >= INT32))
        out.push(`${path}: ${s} is out of a 32-bit integer's range`)
      return checkRange(shape, n, path, out)
    }
    case 'double':
    case 'float': {
      const s = scalar()
      if (s !== undefined && !Number.isFinite(Number(s)))
        out.push(`${path}: ${show(s)} is not a number`)
      return
    }
    case 'boolean': {
      const s = scalar()
      if (s !== undefined && s !== 'true' && s !== 'false')
        out.push(`${path}: ${show(s)} is not a boolean`)
      return
    }
    case 'timestamp': {
      const s = scalar()
      if (s !== undefined && (!ISO8601.test(s) || Number.isNaN(Date.parse(s))))
        out.push(`${path}: ${show(s)} is not an ISO 8601 timestamp`)
      return
    }
    case 'blob': {
      const s = scalar()
      if (s !== undefined && !BASE64.test(s)) out.push(`${path}: ${show(s)} is not base64`)
      return
    }
    default:
      out.push(`${path}: shape type ${String(shape.type)} is not understood by this validator`)
  }
}
