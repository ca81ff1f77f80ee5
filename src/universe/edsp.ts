/**
 * A universe from an EDSP scenario (what apt hands an external solver), like ./cudf.ts for CUDF.
 *
 * A scenario's package stanzas are Packages-index stanzas with apt's extra fields, so they go
 * through the index fast path (./debian-fast.ts, the one relation parser), on a copy of the
 * bytes in which the Request stanza and the package versions left out are turned into comment
 * lines: line numbers in errors stay those of the scenario. Which versions are left out is the
 * caller's choice (`include`): with strict pinning, versions apt does not offer are simply not
 * in the universe, so the solver can never pick them.
 */
import type { EdspScenario } from '../kb/index.js';
import { EDSP_INSTALLED } from '../kb/index.js';
import { UniverseBuilder } from './builder.js';
import { addDebianPackagesFast } from './debian-fast.js';
import type { Universe } from './universe.js';

export interface EdspUniverse {
  universe: Universe;
  /** pv of package stanza i, or -1 when it was left out. */
  pvOfPackage: Int32Array;
  /** Package stanza of pv. */
  packageOfPv: Int32Array;
  /** pvs of the stanzas with `Installed: yes`. */
  installedPvs: number[];
}

const HASH = 35;

/** Turn every line in [start, end) into a comment line (its first byte becomes `#`). */
function commentOut(b: Buffer, start: number, end: number): void {
  let i = start;
  while (i < end) {
    b[i] = HASH;
    const nl = b.indexOf(10, i);
    if (nl < 0 || nl >= end) break;
    i = nl + 1;
  }
}

export function createEdspUniverse(scenario: EdspScenario, options: { include?: (i: number) => boolean } = {}): EdspUniverse {
  const { packages: p, request } = scenario;
  const bytes = Buffer.from(scenario.bytes);
  commentOut(bytes, 0, scenario.requestEnd);
  let kept = 0;
  for (let i = 0; i < p.count; i++) {
    if (!options.include || options.include(i)) kept++;
    else commentOut(bytes, p.start[i]!, p.end[i]!);
  }
  // apt's other architectures (APT::Architectures) are foreign ones: their versions are `name:arch` (multiarch)
  const builder = new UniverseBuilder({ hostArch: request.architecture, foreignArchs: request.architectures.filter((a) => a !== request.architecture) });
  const layer = { name: `edsp:${scenario.file.split('/').pop() ?? scenario.file}`, source: scenario.file, trust: 'distribution' as const };
  if (kept > 0) addDebianPackagesFast(builder, bytes, scenario.file, layer, { errorCode: 'RW_EDSP_PARSE' });
  else builder.addLayer(layer);
  const universe = builder.build();
  const pvOfPackage = new Int32Array(p.count).fill(-1);
  const packageOfPv = new Int32Array(universe.pvCount).fill(-1);
  const installedPvs: number[] = [];
  for (let i = 0; i < p.count; i++) {
    if (options.include && !options.include(i)) continue;
    const pv = universe.findPv(p.name[i]!, p.version[i]!, p.arch[i]!);
    if (pv < 0) continue;
    pvOfPackage[i] = pv;
    packageOfPv[pv] = i;
    if (p.flags[i]! & EDSP_INSTALLED) installedPvs.push(pv);
  }
  return { universe, pvOfPackage, packageOfPv, installedPvs };
}
