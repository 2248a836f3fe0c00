/**
 * @module protocol/query/xml
 * The AWS Query protocol's XML answers (IAM and STS): `<OpResponse><OpResult>…</OpResult>
 * <ResponseMetadata><RequestId>…` and `<ErrorResponse><Error><Type/><Code/><Message/>…`. Lists are
 * `<member>` elements, timestamps ISO 8601, booleans `true`/`false`; absent members are left out.
 */
import type { ServerResponse } from 'node:http'
import type { AwsError } from '../../errors/aws-error.js'

export type XmlValue = string | number | boolean | Date | undefined | null | XmlValue[] | XmlObject
export interface XmlObject {
  [element: string]: XmlValue
}

/**
 * Characters XML 1.0 cannot carry at all, not even as a character reference: C0 controls other
 * than tab, LF and CR, unpaired surrogates, U+FFFE and U+FFFF. They become U+FFFD.
 */
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu

/**
 * Element text needs `&`, `<` and `>` escaped (quotes are fine there), CR as a reference (a parser
 * would read a raw one as LF), and what XML cannot carry replaced: an echoed input of any content
 * still gives a well-formed answer.
 */
const escapeXml = (s: string): string =>
  s
    .replace(NOT_XML, '\uFFFD')
    .replace(/[&<>\r]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#xD;' })[c]!)

function render(value: XmlValue): string {
  if (value === undefined || value === null) return ''
  if (value instanceof Date) return value.toISOString()
  if (Array.isArray(value)) return value.map((v) => `<member>${render(v)}</member>`).join('')
  if (typeof value === 'object')
    return Object.entries(value)
      .filter(([, v]) => v !== undefined && v !== null)
      .map(([k, v]) => `<${k}>${render(v)}</${k}>`)
      .join('')
  return escapeXml(String(value))
}

export const NAMESPACES = {
  iam: 'https://iam.amazonaws.com/doc/2010-05-08/',
  sts: 'https://sts.amazonaws.com/doc/2011-06-15/',
} as const

export type QueryService = keyof typeof NAMESPACES

export function writeQueryResult(
  res: ServerResponse,
  requestId: string,
  service: QueryService,
  operation: string,
  result: XmlObject | undefined,
): void {
  const body =
    `<${operation}Response xmlns="${NAMESPACES[service]}">` +
    (result ? `<${operation}Result>${render(result)}</${operation}Result>` : '') +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>` +
    `</${operation}Response>`
  res.writeHead(200, {
    'Content-Type': 'text/xml',
    'Content-Length': Buffer.byteLength(body),
    'x-amzn-RequestId': requestId,
  })
  res.end(body)
}

/** Query-protocol names of the errors the JSON protocol names differently. */
const QUERY_CODES: Record<string, string> = {
  MissingAuthenticationTokenException: 'MissingAuthenticationToken',
  UnrecognizedClientException: 'InvalidClientTokenId',
  InvalidSignatureException: 'SignatureDoesNotMatch',
  IncompleteSignatureException: 'IncompleteSignature',
  ValidationException: 'ValidationError',
  SerializationException: 'MalformedQueryString',
  AccessDeniedException: 'AccessDenied',
  UnknownOperationException: 'InvalidAction',
  ThrottlingException: 'Throttling',
}

export function writeQueryError(
  res: ServerResponse,
  requestId: string,
  service: QueryService,
  err: AwsError,
): void {
  const code = QUERY_CODES[err.code] ?? err.code
  const status = code === 'AccessDenied' ? 403 : err.statusCode
  const message = err.message.length > 1000 ? `${err.message.slice(0, 997)}...` : err.message
  const body =
    `<ErrorResponse xmlns="${NAMESPACES[service]}"><Error>` +
    `<Type>${status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${escapeXml(code)}</Code>` +
    `<Message>${escapeXml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`
  res.writeHead(status, {
    'Content-Type': 'text/xml',
    'Content-Length': Buffer.byteLength(body),
    'x-amzn-RequestId': requestId,
    'X-Amzn-ErrorType': code,
  })
  res.end(body)
}
