/**
 * A local apt repository (flat: `deb [trusted=yes] file:DIR ./`) made with apt-ftparchive,
 * which lists every version of a package (so downgrades stay possible).
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildDeb, type BuiltDeb, type DebSpec } from './deb.js';
import { requireTool, runChecked } from './process.js';

export interface LabRepository {
  dir: string;
  /** The apt source line for this repository. */
  sourceLine: string;
  debs: BuiltDeb[];
  /** Every package ever built into the repository, also those dropped since. */
  built: BuiltDeb[];
  /** Build more packages into the repository and re-index it. */
  add(specs: DebSpec[]): Promise<BuiltDeb[]>;
  /** Remove a package version from the repository (file and index), e.g. to prove the .deb cache. */
  drop(name: string, version: string): Promise<void>;
  /** Regenerate Packages and Release. */
  index(): Promise<void>;
}

export async function createRepository(dir: string, specs: DebSpec[] = []): Promise<LabRepository> {
  const ftparchive = requireTool('apt-ftparchive');
  await mkdir(dir, { recursive: true });
  const debs: BuiltDeb[] = [];
  const built: BuiltDeb[] = [];
  const index = async (): Promise<void> => {
    const packages = await runChecked([ftparchive, 'packages', '.'], { cwd: dir });
    await writeFile(path.join(dir, 'Packages'), packages);
    const release = await runChecked([ftparchive, 'release', '.'], { cwd: dir });
    await writeFile(path.join(dir, 'Release.tmp'), release);
    await rename(path.join(dir, 'Release.tmp'), path.join(dir, 'Release'));
  };
  const repo: LabRepository = {
    dir,
    sourceLine: `deb [trusted=yes] file:${dir} ./`,
    debs,
    built,
    async add(more) {
      const made: BuiltDeb[] = [];
      for (const spec of more) made.push(await buildDeb(spec, dir));
      debs.push(...made);
      built.push(...made);
      await index();
      return made;
    },
    async drop(name, version) {
      const i = debs.findIndex((d) => d.name === name && d.version === version);
      if (i < 0) throw new Error(`repository has no ${name} ${version}`);
      const [d] = debs.splice(i, 1);
      await rm(d!.path, { force: true });
      await index();
    },
    index,
  };
  if (specs.length > 0) await repo.add(specs);
  else await index();
  return repo;
}
