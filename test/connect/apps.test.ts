/**
 * Provider applications in the store (issue 13 item 2 and 5): the 0007 migration keeps the rows
 * written before it, a GitHub App's secrets are sealed under the master key and never shown by
 * `info()`, the stored app wins over flags as a whole, each GitHub Enterprise Server host has its
 * own app, another node sees a change at its next load, and a master-key rotation reseals them.
 * On SQLite and, with TEST_DATABASE_URL, PostgreSQL.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { ProviderApps, type GitHubAppSecrets } from '../../src/connect/apps.js'
import { MasterKey } from '../../src/crypto/master-key.js'
import { openPostgresStore } from '../../src/store/postgres.js'
import { openSqliteStore } from '../../src/store/sqlite.js'
import type { Store } from '../../src/store/store.js'
import { freshPgSchema, pgUrl, testEngines, type Engine } from '../helpers/engines.js'

const GHES = 'GitHubEnterpriseServer'
const HOST_A = 'arn:aws:codestar-connections:us-east-1:000000000000:host/ghes-a-1234abcd'
const HOST_B = 'arn:aws:codestar-connections:us-east-1:000000000000:host/ghes-b-5678ef01'

function secrets(tag: string): GitHubAppSecrets {
  return {
    appId: `${tag.length}00${tag.charCodeAt(0)}`,
    slug: `junction-${tag}`,
    clientId: `Iv1.client${tag}`,
    clientSecret: `client-secret-${tag}-0123456789abcdef`,
    webhookSecret: `webhook-secret-${tag}-fedcba9876543210`,
    privateKey: `-----BEGIN RSA PRIVATE KEY-----\nprivate-key-body-${tag}\n-----END RSA PRIVATE KEY-----\n`,
  }
}

/** An engine's store, plus raw SQL on the same database (to write rows as older versions did). */
interface Db {
  open(): Promise<Store>
  /** Runs statements outside Junction's store (the store must be closed on SQLite). */
  raw(statements: string[]): Promise<void>
  /** What the database holds of provider_apps, as text (SQLite: the file and its WAL). */
  text(): Promise<string>
  cleanup(): Promise<void>
}

function database(engine: Engine): Db {
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'junction-apps-'))
    const file = join(dir, 'junction.db')
    return {
      open: () => openSqliteStore(file),
      raw: async (statements) => {
        const d = new Database(file)
        try {
          for (const s of statements) d.exec(s)
        } finally {
          d.close()
        }
      },
      // The store holds the file exclusively: read its bytes.
      text: async () =>
        [file, `${file}-wal`]
          .filter(existsSync)
          .map((p) => readFileSync(p).toString('latin1'))
          .join('\n'),
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    }
  }
  const schema = freshPgSchema()
  const name = new URL(schema.url).searchParams.get('schema')!
  const query = async (text: string) => {
    const c = new pg.Client({ connectionString: pgUrl })
    await c.connect()
    try {
      await c.query(`set search_path to ${name}`)
      return await c.query(text)
    } finally {
      await c.end()
    }
  }
  return {
    open: () => openPostgresStore(schema.url),
    raw: async (statements) => {
      for (const s of statements) await query(s)
    },
    text: async () => JSON.stringify((await query('select * from provider_apps')).rows),
    cleanup: () => schema.drop(),
  }
}

for (const engine of testEngines()) {
  describe(`provider applications (${engine})`, () => {
    const cleanups: (() => Promise<void>)[] = []
    afterAll(async () => {
      for (const c of cleanups) await c()
    })
    const fresh = () => {
      const db = database(engine)
      cleanups.push(() => db.cleanup())
      return db
    }

    it('migration 0007 keeps an OAuth consumer stored before it, as the provider-wide app', async () => {
      const db = fresh()
      const key = MasterKey.generate()
      // The schema as 0006 left it, with a Bitbucket consumer saved from the console.
      let store = await db.open()
      await store.close()
      const sealed = key.encrypt('old-consumer-secret')
      await db.raw([
        'drop table provider_apps',
        'create table provider_apps (provider_type text primary key, client_id text not null, secret_ciphertext text not null, updated_by text not null, updated_at bigint not null)',
        `insert into provider_apps values ('Bitbucket', 'old-key', '${sealed}', 'arn:aws:iam::000000000000:root', 1700000000000)`,
        "delete from junction_migrations where name = '0007_provider_app_github'",
      ])
      store = await db.open()
      try {
        const r = await store.providerApps.get('Bitbucket')
        expect(r).toEqual({
          providerType: 'Bitbucket',
          hostArn: '',
          clientId: 'old-key',
          secretCiphertext: sealed,
          appId: null,
          slug: null,
          privateKeyCiphertext: null,
          webhookSecretCiphertext: null,
          updatedBy: 'arn:aws:iam::000000000000:root',
          updatedAt: 1700000000000,
        })
        const apps = new ProviderApps(store, key, {}, (t) => `https://j.example/oauth/${t}/cb`)
        await apps.load()
        expect(apps.app('Bitbucket')).toEqual({
          clientId: 'old-key',
          clientSecret: 'old-consumer-secret',
          callbackUrl: 'https://j.example/oauth/Bitbucket/cb',
        })
        // The rebuilt table takes a host's app beside the provider-wide one.
        await apps.setGitHubApp(GHES, HOST_A, secrets('a'), 'root', 2)
        expect((await store.providerApps.list()).map((x) => [x.providerType, x.hostArn])).toEqual([
          ['Bitbucket', ''],
          [GHES, HOST_A],
        ])
      } finally {
        await store.close()
      }
    })

    it('seals a GitHub App, gives it back merged over flags, and never shows a secret', async () => {
      const db = fresh()
      const key = MasterKey.generate()
      const store = await db.open()
      try {
        const flags = {
          GitHub: {
            clientId: 'Iv1.flags',
            clientSecret: 'flags-client-secret',
            appId: '1',
            slug: 'from-flags',
            privateKey: 'flags-pem',
            webhookSecret: 'flags-hook',
          },
        }
        const apps = new ProviderApps(store, key, flags, (t) => `https://j.example/oauth/${t}`)
        await apps.load()
        // A GitHub App by its id and key alone (no client id and secret) is configured too.
        const keyOnly = new ProviderApps(
          store,
          key,
          { GitHub: { appId: '7', privateKey: 'pem-only' } },
          (t) => t,
        )
        expect(keyOnly.app('GitHub')).toEqual({
          clientId: '',
          clientSecret: '',
          callbackUrl: 'GitHub',
          appId: '7',
          privateKey: 'pem-only',
        })
        expect(
          new ProviderApps(store, key, { GitHub: { appId: '7' } }, (t) => t).app('GitHub'),
        ).toBeUndefined()
        // Flags alone.
        expect(apps.app('GitHub')).toMatchObject({ appId: '1', privateKey: 'flags-pem' })
        expect(apps.info('GitHub')).toEqual({
          clientId: 'Iv1.flags',
          secretSet: true,
          source: 'flags',
          appId: '1',
          slug: 'from-flags',
          privateKeySet: true,
          webhookSecretSet: true,
        })
        const s = secrets('gh')
        await apps.setGitHubApp('GitHub', '', s, 'arn:aws:iam::000000000000:root', 10)
        // Stored wins, as a whole.
        expect(apps.app('GitHub')).toEqual({
          clientId: s.clientId,
          clientSecret: s.clientSecret,
          callbackUrl: 'https://j.example/oauth/GitHub',
          appId: s.appId,
          slug: s.slug,
          privateKey: s.privateKey,
          webhookSecret: s.webhookSecret,
        })
        const info = apps.info('GitHub')
        expect(info).toEqual({
          clientId: s.clientId,
          secretSet: true,
          source: 'console',
          appId: s.appId,
          slug: s.slug,
          privateKeySet: true,
          webhookSecretSet: true,
        })
        // Sealed: no secret in the table, in any column.
        const text = await db.text()
        for (const secret of [s.clientSecret, s.webhookSecret, s.privateKey, 'private-key-body'])
          expect(text).not.toContain(secret)
        expect(text).toContain(s.slug)
        // Changing the client id in the console keeps the app's key and webhook secret.
        await apps.set('GitHub', 'Iv1.renamed', '', 'root', 11)
        expect(apps.app('GitHub')).toMatchObject({
          clientId: 'Iv1.renamed',
          clientSecret: s.clientSecret,
          privateKey: s.privateKey,
          webhookSecret: s.webhookSecret,
        })
        // Another node reads the same.
        const other = new ProviderApps(store, key, {}, (t) => t)
        await other.load(['GitHub'])
        expect(other.app('GitHub')?.privateKey).toBe(s.privateKey)
      } finally {
        await store.close()
      }
    })

    it('keeps one app per GitHub Enterprise Server host, and forgets a deleted host’s', async () => {
      const db = fresh()
      const key = MasterKey.generate()
      const store = await db.open()
      try {
        const apps = new ProviderApps(store, key, {}, (t) => `cb:${t}`)
        const other = new ProviderApps(store, key, {}, (t) => `cb:${t}`)
        await apps.load()
        expect(apps.appForHost(HOST_A)).toBeUndefined()
        expect(apps.hostInfo(HOST_A)).toEqual({ secretSet: false, source: 'none' })
        await apps.setGitHubApp(GHES, HOST_A, secrets('a'), 'root', 1)
        await apps.setGitHubApp(GHES, HOST_B, secrets('b'), 'root', 2)
        expect(apps.appForHost(HOST_A)).toMatchObject({
          slug: 'junction-a',
          privateKey: secrets('a').privateKey,
          callbackUrl: `cb:${GHES}`,
        })
        expect(apps.appForHost(HOST_B)?.slug).toBe('junction-b')
        // A host's app is not the provider-wide one, nor the other way round.
        expect(apps.app(GHES)).toBeUndefined()
        expect(apps.appForHost('')).toBeUndefined()
        expect(JSON.stringify(apps.hostInfo(HOST_A))).not.toContain('private-key-body')
        await other.load()
        expect(other.appForHost(HOST_B)?.webhookSecret).toBe(secrets('b').webhookSecret)
        await apps.forgetHost(HOST_A)
        expect(apps.appForHost(HOST_A)).toBeUndefined()
        await other.load()
        expect(other.appForHost(HOST_A)).toBeUndefined()
        expect(other.appForHost(HOST_B)?.slug).toBe('junction-b')
      } finally {
        await store.close()
      }
    })

    it('a master-key rotation reseals the private key and webhook secret too', async () => {
      const db = fresh()
      const oldKey = MasterKey.generate()
      const newKey = MasterKey.generate()
      const store = await db.open()
      try {
        const apps = new ProviderApps(store, oldKey, {}, (t) => t)
        await apps.setGitHubApp(GHES, HOST_A, secrets('a'), 'root', 1)
        await apps.set('Bitbucket', 'consumer', 'consumer-secret', 'root', 1)
        const n = await store.resealSecrets((c) => newKey.encrypt(oldKey.decrypt(c)))
        expect(n).toBeGreaterThanOrEqual(2)
        const after = new ProviderApps(store, newKey, {}, (t) => t)
        await after.load()
        expect(after.appForHost(HOST_A)).toMatchObject({
          clientSecret: secrets('a').clientSecret,
          privateKey: secrets('a').privateKey,
          webhookSecret: secrets('a').webhookSecret,
        })
        expect(after.app('Bitbucket')?.clientSecret).toBe('consumer-secret')
        // The old key opens nothing any more.
        const stale = new ProviderApps(store, oldKey, {}, (t) => t)
        await expect(stale.load()).rejects.toThrow()
      } finally {
        await store.close()
      }
    })
  })
}
