/**
 * @module protocol/serialize
 * The only place that knows the AWS JSON 1.0 wire form of results and errors (spec §1): status
 * 200 with the output as JSON, or the error's status with `{"__type": code, "Message": text}` (SDKs
 * read `message` or `Message`) and the `X-Amzn-ErrorType` header. The member's name follows the
 * service's model: `Message` for the connections services, `message` for CodePipeline.
 */
import type { ServerResponse } from 'node:http'
import type { AwsError } from '../errors/aws-error.js'

export const CONTENT_TYPE = 'application/x-amz-json-1.0'

export function writeResult(
  res: ServerResponse,
  requestId: string,
  output: unknown,
  contentType: string = CONTENT_TYPE,
): void {
  const body = JSON.stringify(output ?? {})
  res.writeHead(200, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'x-amzn-RequestId': requestId,
  })
  res.end(body)
}

export function writeError(
  res: ServerResponse,
  requestId: string,
  err: AwsError,
  contentType: string = CONTENT_TYPE,
  messageMember: 'Message' | 'message' = 'Message',
): void {
  const message = err.message.length > 600 ? `${err.message.slice(0, 597)}...` : err.message
  const body = JSON.stringify({ __type: err.code, [messageMember]: message })
  res.writeHead(err.statusCode, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'x-amzn-RequestId': requestId,
    'X-Amzn-ErrorType': err.code,
  })
  res.end(body)
}
