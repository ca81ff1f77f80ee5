/**
 * Typed host facts: what the planner and the knowledge base's environment rules look at.
 * Every field is optional because an inventory may know only some of them; a rule that needs
 * a missing fact evaluates to `unknown` (reported), never to a silent pass.
 */
import { z } from 'zod';

export const OS_ID_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;
/** Debian architecture names (`amd64`, `arm64`, `i386`, `all`, ...). */
export const ARCH_PATTERN = /^[a-z0-9][a-z0-9-]*$/;
/** A kernel release as `uname -r` prints it (`6.1.0-18-amd64`). */
export const KERNEL_PATTERN = /^[0-9][A-Za-z0-9._+~-]*$/;
export const LABEL_KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;

export const OsFactsSchema = z.strictObject({
  /** `ID` of /etc/os-release (`debian`, `ubuntu`). */
  id: z.string().regex(OS_ID_PATTERN, 'an os-release ID such as debian'),
  /** `VERSION_ID` (`12`, `11`, `22.04`). */
  versionId: z.string().regex(/^[0-9][0-9A-Za-z.~+-]*$/, 'an os-release VERSION_ID such as 12').optional(),
  /** `VERSION_CODENAME` (`bookworm`). */
  codename: z.string().regex(/^[a-z0-9-]+$/, 'a release codename such as bookworm').optional(),
});

export const HostFactsSchema = z.strictObject({
  os: OsFactsSchema.optional(),
  architecture: z.string().regex(ARCH_PATTERN, 'a Debian architecture such as amd64').optional(),
  kernel: z.string().regex(KERNEL_PATTERN, 'a kernel release such as 6.1.0-18-amd64').optional(),
  /** The running kernel's package version (`6.1.76-1` for the 6.1.0-18-amd64 ABI): what a fix is released in. */
  kernelVersion: z.string().regex(/^[0-9][A-Za-z0-9.+~:-]*$/, 'a kernel package version such as 6.1.76-1').optional(),
  memoryMiB: z.number().int().nonnegative().optional(),
  diskTotalMiB: z.number().int().nonnegative().optional(),
  diskFreeMiB: z.number().int().nonnegative().optional(),
  cpus: z.number().int().positive().optional(),
});

export type OsFacts = z.infer<typeof OsFactsSchema>;
export type HostFacts = z.infer<typeof HostFactsSchema>;
export type Labels = Record<string, string>;

export const LabelsSchema = z.record(z.string().regex(LABEL_KEY_PATTERN, 'a label key (letters, digits, . _ / -)'), z.string());

/**
 * Fact names usable in conditions: `os.id`, `os.versionId`, `os.codename`, `architecture`,
 * `kernel` (the release `uname -r` prints, an ABI name: 6.1.0-18-amd64), `kernelVersion` (the
 * running kernel's package version: 6.1.76-1), `memoryMiB`, `diskTotalMiB`, `diskFreeMiB`,
 * `cpus`, and `label.<key>`.
 */
export const FACT_NAMES = ['os.id', 'os.versionId', 'os.codename', 'architecture', 'kernel', 'kernelVersion', 'memoryMiB', 'diskTotalMiB', 'diskFreeMiB', 'cpus'] as const;
export type FactName = (typeof FACT_NAMES)[number] | `label.${string}`;

export function isFactName(s: string): s is FactName {
  return (FACT_NAMES as readonly string[]).includes(s) || (s.startsWith('label.') && LABEL_KEY_PATTERN.test(s.slice(6)));
}

/** The value of one fact, or undefined when the host does not know it. */
export function readFact(facts: HostFacts, labels: Labels, name: FactName): string | number | undefined {
  switch (name) {
    case 'os.id': return facts.os?.id;
    case 'os.versionId': return facts.os?.versionId;
    case 'os.codename': return facts.os?.codename;
    case 'architecture': return facts.architecture;
    case 'kernel': return facts.kernel;
    case 'kernelVersion': return facts.kernelVersion;
    case 'memoryMiB': return facts.memoryMiB;
    case 'diskTotalMiB': return facts.diskTotalMiB;
    case 'diskFreeMiB': return facts.diskFreeMiB;
    case 'cpus': return facts.cpus;
    default: return labels[name.slice(6)];
  }
}

/**
 * The inverse of readFact: facts and labels from a flat record of fact values (a host group's
 * relevant facts), each value kept as readFact gave it.
 */
export function factsFromValues(values: Partial<Record<FactName, string | number>>): { facts: HostFacts; labels: Labels } {
  const facts: HostFacts = {};
  const labels: Labels = {};
  const set = facts as Record<string, unknown>;
  for (const [k, v] of Object.entries(values) as Array<[FactName, string | number]>) {
    if (k.startsWith('label.')) labels[k.slice(6)] = String(v);
    else if (k.startsWith('os.')) facts.os = { ...(facts.os ?? { id: '' }), [k.slice(3)]: String(v) };
    else set[k] = v;
  }
  return { facts, labels };
}

/** Merges fact layers (defaults, then groups, then the host's own), later layers win field by field. */
export function mergeFacts(...layers: Array<HostFacts | undefined>): HostFacts {
  const out: HostFacts = {};
  for (const l of layers) {
    if (!l) continue;
    for (const [k, v] of Object.entries(l) as Array<[keyof HostFacts, unknown]>) {
      if (v === undefined) continue;
      if (k === 'os') out.os = { ...(out.os ?? {}), ...(v as OsFacts) };
      else (out as Record<string, unknown>)[k] = v;
    }
  }
  return out;
}

/** Parses /etc/os-release text (shell-style KEY=value lines, values possibly quoted). */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq);
    let value = line.slice(eq + 1);
    if ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'"))) {
      value = value.slice(1, -1).replace(/\\(["$`\\])/g, '$1');
    }
    out[key] = value;
  }
  return out;
}

export function osFactsFromRelease(fields: Record<string, string>): OsFacts | undefined {
  const id = fields.ID;
  if (!id || !OS_ID_PATTERN.test(id)) return undefined;
  const os: OsFacts = { id };
  if (fields.VERSION_ID && /^[0-9][0-9A-Za-z.~+-]*$/.test(fields.VERSION_ID)) os.versionId = fields.VERSION_ID;
  if (fields.VERSION_CODENAME && /^[a-z0-9-]+$/.test(fields.VERSION_CODENAME)) os.codename = fields.VERSION_CODENAME;
  return os;
}

/** MemTotal of /proc/meminfo in MiB. */
export function parseMeminfoMiB(text: string): number | undefined {
  const m = /^MemTotal:\s+(\d+)\s*kB/m.exec(text);
  return m ? Math.floor(Number(m[1]) / 1024) : undefined;
}

/**
 * The running kernel's package version from /proc/version, where Debian's kernels name it
 * (`... #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)`); undefined when not there.
 */
export function kernelVersionFromProcVersion(text: string): string | undefined {
  // after the build number (`#1 SMP ...`): the compiler's own `(Debian 12.2.0-14)` comes before it
  const m = /#\d+\s[^\n]*?\bDebian ([0-9][A-Za-z0-9.+~:-]*)/.exec(text);
  return m?.[1];
}
