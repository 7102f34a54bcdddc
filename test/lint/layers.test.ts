import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';
import { projectRoot } from '../../src/project-root.js';

// The layer rule is the design in executable form; these cases prove it fires on a wrong import
// (and stays quiet on a right one), so a config change cannot silently switch it off.
const eslint = new ESLint({ cwd: projectRoot });

async function layerErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'import-x/no-restricted-paths').map((m) => m.message);
}

describe('lint: the layer rule', () => {
  it('fails when an adapter imports storage', async () => {
    const errors = await layerErrors(
      `${projectRoot}/adapters/slack/wrong.ts`,
      "import { openDatabase } from '../../src/db/client.js';\nexport const x = openDatabase;\n",
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/Adapters translate platform events/);
  });

  it('fails when an adapter imports the job runner', async () => {
    const errors = await layerErrors(
      `${projectRoot}/adapters/discord/wrong.ts`,
      "import * as jobs from '../../src/jobs/scheduler.js';\nexport const x = jobs;\n",
    );
    expect(errors).toHaveLength(1);
  });

  it('fails when the core imports an adapter or the job runner', async () => {
    const errors = await layerErrors(
      `${projectRoot}/src/core/wrong.ts`,
      "import * as slack from '../../adapters/slack/render.js';\nimport * as jobs from '../jobs/scheduler.js';\nexport const x = [slack, jobs];\n",
    );
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/The core knows no platform/);
  });

  it('fails when an adapter reaches past the ports module into the core', async () => {
    const errors = await layerErrors(
      `${projectRoot}/adapters/slack/wrong.ts`,
      "import * as reply from '../../src/core/reply.js';\nexport const x = reply;\n",
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/one ports module/);
  });

  it('lets an adapter import the core through its ports module', async () => {
    const errors = await layerErrors(
      `${projectRoot}/adapters/slack/right.ts`,
      "import * as core from '../../src/core/ports.js';\nexport const x = core;\n",
    );
    expect(errors).toEqual([]);
  });
});
