/**
 * The `CodeStarSourceConnection` source action on a `ProviderType GitLab` connection, through the
 * sandbox GitLab, for a project in a nested subgroup (acme/platform/tools/app) on a branch whose
 * name has slashes: CODE_ZIP (the commit's tree at the zip's root, no `.git`, no top folder) and
 * CODEBUILD_CLONE_REF (a full clone at the commit through the connection, no token stored), as a
 * Commands action sees them, and the output variables.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CreatePipelineCommand, ListActionExecutionsCommand } from '@aws-sdk/client-codepipeline'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { testEngines } from '../helpers/engines.js'
import {
  ACCOUNT,
  glCommit,
  PROJECT,
  startGlPipelineFixture,
  stopGlPipelineFixture,
  type GlPipelineFixture,
} from '../helpers/gitlab-pipelines.js'
import { actionLog, declaration, executions, finished, waitFor } from '../helpers/pipelines.js'

vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 })

const BRANCH = 'feature/deep/zip'

for (const engine of testEngines()) {
  describe(`GitLab source action [${engine}]`, () => {
    let f: GlPipelineFixture
    beforeAll(async () => {
      f = await startGlPipelineFixture(engine, { 'enable-commands': true })
    })
    afterAll(() => stopGlPipelineFixture(f))

    const sourceOf = async (name: string, id: string) =>
      (
        await f.cp.send(
          new ListActionExecutionsCommand({
            pipelineName: name,
            filter: { pipelineExecutionId: id },
          }),
        )
      ).actionExecutionDetails!.find((a) => a.actionName === 'Source')!
    const pushRun = async (name: string, sha: string) => {
      const run = await waitFor('the push run', async () =>
        (await executions(f.cp, name)).find((e) => e.trigger!.triggerDetail?.includes(sha)),
      )
      return finished(f.cp, name, run.pipelineExecutionId!)
    }

    it('CODE_ZIP: the pushed commit, its files at the root, the variables', async () => {
      await glCommit(f, BRANCH, { 'docs/old.md': 'old\n' }, { message: 'Start' })
      await f.cp.send(
        new CreatePipelineCommand({
          pipeline: declaration({
            name: 'gl-zip',
            roleArn: f.role,
            connectionArn: f.arn,
            repository: PROJECT,
            branch: BRANCH,
            commands: [
              'test ! -e .git',
              'find . -type f | sort',
              'cat src/main.c',
              'echo "id=#{SourceVariables.CommitId} branch=#{SourceVariables.BranchName} repo=#{SourceVariables.FullRepositoryName}"',
            ],
          }),
        }),
      )
      await waitFor('the creation run', async () =>
        (await executions(f.cp, 'gl-zip')).length > 0 ? true : undefined,
      )
      const message = 'Ship it\n\nWith a body: "quotes", émoji ✓.'
      const sha = await glCommit(
        f,
        BRANCH,
        { 'src/main.c': 'int main(void) { return 42; }\n', 'docs/old.md': null },
        { message },
      )
      const done = await pushRun('gl-zip', sha)
      expect(done.status, done.statusSummary).toBe('Succeeded')
      expect(done.artifactRevisions![0]!.revisionId).toBe(sha)
      const source = await sourceOf('gl-zip', done.pipelineExecutionId!)
      expect(source.output!.outputVariables).toMatchObject({
        BranchName: BRANCH,
        CommitId: sha,
        FullRepositoryName: PROJECT,
        ConnectionArn: f.arn,
      })
      expect(source.output!.outputVariables!['CommitMessage']).toMatch(/^Ship it\n\nWith a body/)
      const log = await actionLog(f.cp, 'gl-zip', done.pipelineExecutionId!)
      const listed = log.split('\n').filter((l) => l.startsWith('./'))
      expect(listed).toEqual(['./README.md', './src/main.c'])
      expect(log).toContain('return 42;')
      expect(log).toContain(`id=${sha} branch=${BRANCH} repo=${PROJECT}`)
    })

    it('CLONE_REF: a full clone at the commit through the connection, no token stored', async () => {
      const sha = await glCommit(f, BRANCH, { 'f.txt': 'f\n' }, { message: 'Feature' })
      await f.cp.send(
        new CreatePipelineCommand({
          pipeline: declaration({
            name: 'gl-clone',
            roleArn: f.role,
            connectionArn: f.arn,
            repository: PROJECT,
            branch: BRANCH,
            detectChanges: false,
            format: 'CODEBUILD_CLONE_REF',
            commands: [
              'test -d .git',
              'git log --format=%s',
              'echo "head=$(git rev-parse HEAD)"',
              'cat f.txt',
            ],
          }),
        }),
      )
      const [creation] = await waitFor('the creation run', async () => {
        const e = await executions(f.cp, 'gl-clone')
        return e.length > 0 ? e : undefined
      })
      const done = await finished(f.cp, 'gl-clone', creation!.pipelineExecutionId!)
      expect(done.status, done.statusSummary).toBe('Succeeded')
      expect(done.artifactRevisions![0]!.revisionId).toBe(sha)
      const ref = readFileSync(
        join(
          f.server.dataDir,
          'artifacts',
          ACCOUNT,
          'gl-clone',
          done.pipelineExecutionId!,
          'SourceArtifact.json',
        ),
        'utf8',
      )
      expect(JSON.parse(ref)).toMatchObject({
        connectionArn: f.arn,
        providerType: 'GitLab',
        fullRepositoryId: PROJECT,
        branch: BRANCH,
        commitId: sha,
      })
      const token = f.sb.token('alice-api')
      expect(ref).not.toContain(token)
      const log = await actionLog(f.cp, 'gl-clone', done.pipelineExecutionId!)
      expect(log).toContain(`head=${sha}`)
      // Full history: this commit, the earlier ones on the branch and the project's first.
      expect(log).toMatch(/^Feature$/m)
      expect(log).toMatch(/^Ship it$/m)
      expect(log).toContain('f\n')
      expect(log).not.toContain(token)
    })
  })
}
