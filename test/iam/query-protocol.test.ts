/**
 * The Query protocol as IAM and STS speak it: form-encoded requests, XML answers and errors, the
 * service taken from the SigV4 credential scope.
 */
import { describe, expect, it } from 'vitest'
import { describeApi } from '../helpers/api.js'
import type { RawRequest } from '../helpers/client.js'

const form = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }

describeApi('Query protocol (IAM, STS)', (f) => {
  const query = (body: string, extra: Partial<RawRequest> = {}) =>
    f.raw.call({ target: null, signingService: 'iam', rawBody: body, headers: form, ...extra })

  describe('answers', () => {
    it('answers in XML with the result wrapper and the request id', async () => {
      const res = await query(
        'Action=CreateUser&Version=2010-05-08&UserName=xml-user&Path=%2Fops%2F',
      )
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('text/xml')
      expect(res.text).toMatch(
        /^<CreateUserResponse xmlns="https:\/\/iam\.amazonaws\.com\/doc\/2010-05-08\/"><CreateUserResult><User><Path>\/ops\/<\/Path><UserName>xml-user<\/UserName>/,
      )
      expect(res.text).toContain(`<RequestId>${res.headers.get('x-amzn-requestid')}</RequestId>`)
    })
    it('answers an operation without output with ResponseMetadata only', async () => {
      await query('Action=CreateUser&Version=2010-05-08&UserName=gone-user')
      const res = await query('Action=DeleteUser&Version=2010-05-08&UserName=gone-user')
      expect(res.text).toMatch(/^<DeleteUserResponse xmlns="[^"]+"><ResponseMetadata><RequestId>/)
    })
    it('escapes XML special characters', async () => {
      const doc = JSON.stringify({
        Version: '2012-10-17',
        Statement: { Sid: 'AandB', Effect: 'Allow', Action: '*', Resource: 'arn:aws:s3:::a<b>&c' },
      })
      await query('Action=CreateUser&UserName=esc-user')
      await query(
        `Action=PutUserPolicy&UserName=esc-user&PolicyName=p&PolicyDocument=${encodeURIComponent(doc)}`,
      )
      const res = await query('Action=GetUserPolicy&UserName=esc-user&PolicyName=p')
      const encoded = /<PolicyDocument>([^<]*)<\/PolicyDocument>/.exec(res.text)![1]!
      expect(JSON.parse(decodeURIComponent(encoded))).toEqual(JSON.parse(doc))
    })
    it('answers STS in its own namespace', async () => {
      const res = await query('Action=GetCallerIdentity&Version=2011-06-15', {
        signingService: 'sts',
      })
      expect(res.text).toMatch(
        /^<GetCallerIdentityResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/">/,
      )
      expect(res.text).toContain('<Arn>arn:aws:iam::000000000000:root</Arn>')
    })
  })

  describe('errors', () => {
    const errorOf = (text: string) => ({
      type: /<Type>([^<]*)<\/Type>/.exec(text)?.[1],
      code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1],
      message: /<Message>([^<]*)<\/Message>/.exec(text)?.[1],
    })
    it('answers an unknown action with InvalidAction', async () => {
      const res = await query('Action=CreateGroup&Version=2010-05-08&GroupName=g')
      expect(res.status).toBe(400)
      expect(errorOf(res.text)).toMatchObject({ type: 'Sender', code: 'InvalidAction' })
      expect(res.text).toMatch(
        /^<ErrorResponse xmlns="https:\/\/iam\.amazonaws\.com\/doc\/2010-05-08\/"><Error>/,
      )
    })
    it('answers a missing action with MissingAction', async () => {
      const res = await query('Version=2010-05-08')
      expect(errorOf(res.text).code).toBe('MissingAction')
    })
    it('refuses an STS action signed for IAM and the reverse', async () => {
      expect(
        errorOf((await query('Action=AssumeRole&RoleArn=x&RoleSessionName=yy')).text).code,
      ).toBe('InvalidAction')
      expect(errorOf((await query('Action=ListUsers', { signingService: 'sts' })).text).code).toBe(
        'InvalidAction',
      )
    })
    it('answers authentication failures with the Query codes', async () => {
      const unsigned = await query('Action=ListUsers', { credentials: null })
      expect(unsigned.status).toBe(403)
      expect(errorOf(unsigned.text).code).toBe('MissingAuthenticationToken')
      const unknown = await query('Action=ListUsers', {
        credentials: { accessKeyId: 'JKIAUNKNOWNUNKNOWN00', secretAccessKey: 'x' },
      })
      expect(errorOf(unknown.text).code).toBe('InvalidClientTokenId')
      const wrong = await query('Action=ListUsers', {
        credentials: { accessKeyId: f.server.credentials.accessKeyId, secretAccessKey: 'nope' },
      })
      expect(errorOf(wrong.text).code).toBe('SignatureDoesNotMatch')
    })
    it('answers constraint failures with ValidationError in Coral style', async () => {
      const res = await query('Action=ListUsers&MaxItems=0')
      expect(errorOf(res.text)).toMatchObject({ code: 'ValidationError' })
      expect(errorOf(res.text).message).toMatch(
        /Value '0' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1/,
      )
      expect(errorOf((await query('Action=ListUsers&MaxItems=ten')).text).code).toBe(
        'ValidationError',
      )
      // Only digits make an integer (the property test found '1 ' taken as 1).
      for (const v of ['1%20', '%201', '0x10', '1e2', '1.0'])
        expect(errorOf((await query(`Action=ListUsers&MaxItems=${v}`)).text).code, v).toBe(
          'ValidationError',
        )
      expect(errorOf((await query('Action=CreateUser')).text).message).toMatch(
        /Value null at 'userName'/,
      )
    })
    it('answers NoSuchEntity with 404 and EntityAlreadyExists with 409', async () => {
      const missing = await query('Action=GetUser&UserName=nobody-here')
      expect(missing.status).toBe(404)
      expect(errorOf(missing.text).code).toBe('NoSuchEntity')
      await query('Action=CreateUser&UserName=twice')
      const again = await query('Action=CreateUser&UserName=twice')
      expect(again.status).toBe(409)
      expect(errorOf(again.text).code).toBe('EntityAlreadyExists')
    })
    it('refuses a bad Marker', async () => {
      expect(errorOf((await query('Action=ListUsers&Marker=%21%21')).text).code).toBe(
        'ValidationError',
      )
    })
  })
})
