/**
 * The knowledge-base YAML format, as zod schemas. Every object is strict: an unknown key (a typo)
 * is an error, never silently ignored. The schemas describe structure only; relation strings,
 * versions and cross-references are checked afterwards (see validate.ts) so every problem can be
 * reported with the position of the exact string at fault.
 *
 * The JSON Schema for editors (schema/rollwise-kb.schema.json) is generated from KbDocumentSchema
 * by `npm run schema`.
 */
import { z } from 'zod';
import { PACKAGE_NAME_PATTERN } from './relations.js';

export const KB_API_VERSION = 'rollwise/v1';
export const KB_KIND = 'KnowledgeBase';

const packageName = z.string().regex(new RegExp(PACKAGE_NAME_PATTERN)).describe('a Debian package name (lowercase letters, digits, + - .)');
const identifier = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:@-]*$/).describe('a name made of letters, digits and . _ : @ -');
const relation = z.string().min(1).describe('a Debian relation: `name`, `name (>= 1.2)`, `name:any`; alternatives `a | b` where allowed');
const relationList = z.array(relation).describe('a list of relations, one clause per item: ["libssl3 (>= 3.0)", "postgresql-client-15 | postgresql-client"]');
const versionRange = z.string().min(1).describe('a version range compared in dpkg order, e.g. `>= 6.1, << 6.1.76`');
const positive = z.number().positive();
// eslint-disable-next-line no-control-regex -- a NUL byte is refused in a host path
const hostPath = z.string().regex(/^\/(?!.*(?:^|\/)\.\.?(?:\/|$))[^\s\u0000]*$/, 'an absolute path without . or .. segments').describe('absolute path on the host, without . or .. segments');

export const TrustSchema = z.enum(['distribution', 'organisation', 'learned', 'observed']);
export const CriticalitySchema = z.enum(['critical', 'high', 'medium', 'low']);
export const SeveritySchema = CriticalitySchema;
export const ImpactKindSchema = z.enum(['outage', 'performance', 'resources']);

export const LayerHeaderSchema = z.strictObject({
  name: identifier.describe('layer name; files naming the same layer are merged into it'),
  precedence: z.number().int().min(0).max(1000).describe('higher wins when two layers describe the same thing (distribution index 10, organisation 50, learned 80 by convention)'),
  description: z.string().optional(),
  source: z.string().optional().describe('where this layer comes from (repository, URL, incident); defaults to the file path'),
  author: z.string().optional(),
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/).optional().describe('ISO 8601 date, e.g. 2026-11-02 (quoted or not)'),
  trust: TrustSchema.default('organisation').describe('how much to believe this layer'),
});

export const EnvironmentMatchShape = {
  os: z.string().optional().describe('operating system id as in /etc/os-release ID, e.g. debian'),
  releases: z.array(z.string()).optional().describe('OS releases (VERSION_ID or codename), e.g. ["12", "bookworm"]'),
  architectures: z.array(z.string()).optional().describe('dpkg architectures, e.g. [amd64, arm64]'),
  kernel: versionRange.optional().describe('range of the kernel release as `uname -r` prints it (an ABI name such as 6.1.0-18-amd64), in dpkg order, e.g. `>= 5.10`'),
  kernelVersion: versionRange.optional().describe("range of the running kernel's package version (6.1.76-1 for the 6.1.0-18-amd64 ABI), in dpkg order, e.g. `>= 6.1, << 6.1.76`: what a fix is released in"),
};

export const EnvironmentRequirementSchema = z.strictObject({
  ...EnvironmentMatchShape,
  minMemoryMiB: positive.optional(),
  minDiskMiB: positive.optional(),
  minCpus: positive.optional(),
});

export const EnvironmentMatchSchema = z.strictObject(EnvironmentMatchShape);

export const MigrationSchema = z.strictObject({
  id: identifier.describe('migration id, unique per database'),
  database: identifier.describe('logical database the migration changes'),
  description: z.string().optional(),
  up: z.string().min(1).describe('up script, a path relative to this YAML file'),
  down: z.string().min(1).optional().describe('down script, a path relative to this YAML file; omit only when irreversible'),
  irreversible: z.boolean().optional().describe('true when no down script can undo it (the plan then backs the database up first)'),
});

export const ResourceProfileSchema = z.strictObject({
  memoryMiB: z.number().optional().describe('change of resident memory against the previous version (MiB, may be negative)'),
  cpuPercent: z.number().optional().describe('change of CPU use (percent of one core)'),
  diskMiB: z.number().optional().describe('change of disk use (MiB)'),
  note: z.string().optional(),
});

export const DataConversionSchema = z.union([
  z.boolean(),
  z.strictObject({
    note: z.string().optional().describe('what the scripts convert, and whether anything converts it back'),
    paths: z.array(hostPath).optional().describe('where the converted data lives on the host (a copy is kept before deploying)'),
  }),
]).describe('true (or { note, paths }) when this version\'s maintainer scripts convert data in place on upgrade: a change across it cannot be undone by a downgrade (the rollback plan flags it)');

export const PackageVersionSchema = z.strictObject({
  version: z.string().min(1).describe('the version, in the package scheme; quote it in YAML (2.10 is not 2.1)'),
  description: z.string().optional(),
  depends: relationList.optional(),
  preDepends: relationList.optional(),
  recommends: relationList.optional(),
  suggests: relationList.optional(),
  conflicts: relationList.optional(),
  breaks: relationList.optional(),
  provides: relationList.optional().describe('virtual packages, `name` or `name (= version)`'),
  replaces: relationList.optional(),
  environment: EnvironmentRequirementSchema.optional(),
  migrations: z.array(MigrationSchema).optional(),
  resources: ResourceProfileSchema.optional(),
  convertsData: DataConversionSchema.optional(),
});

export const PackageSchema = z.strictObject({
  name: packageName,
  scheme: z.enum(['deb', 'semver']).default('deb').describe('version ordering: deb (dpkg) or semver (the organisation’s own apps)'),
  architecture: z.string().regex(/^[a-z0-9-]+$/).default('all'),
  description: z.string().optional(),
  section: z.string().optional(),
  versions: z.array(PackageVersionSchema).min(1),
});

export const HttpProbeSchema = z.strictObject({
  url: z.string().regex(/^https?:\/\/\S+$/).describe('http(s) URL probed on the host'),
  expectStatus: z.number().int().min(100).max(599).default(200),
  contains: z.string().optional().describe('text the body must contain'),
  timeoutMs: z.number().int().positive().default(2000),
});

export const CommandProbeSchema = z.strictObject({
  argv: z.array(z.string().min(1)).min(1).describe('program and arguments (never a shell line)'),
  expectExit: z.number().int().min(0).max(255).default(0),
  timeoutMs: z.number().int().positive().default(5000),
});

export const MetricQuerySchema = z.strictObject({
  name: identifier,
  promql: z.string().min(1).describe('Prometheus query returning one value per host'),
  max: z.number().optional().describe('healthy while the value stays at or below this'),
  min: z.number().optional().describe('healthy while the value stays at or above this'),
  for: z.string().regex(/^\d+(ms|s|m|h)$/).optional().describe('how long a breach must last, e.g. 2m'),
  interval: z.string().regex(/^\d+(ms|s|m|h)$/).optional().describe('time between measurements during a wave, e.g. 10s (default 10s)'),
  direction: z.enum(['higher-is-worse', 'lower-is-worse', 'either']).optional().describe('which change hurts, for the canary judge (default: from max/min: max alone higher-is-worse, min alone lower-is-worse, both either)'),
  minEffect: z.number().min(0).optional().describe('smallest shift against unchanged hosts the canary judge blames on the change, relative to their median (0.1 = 10%, the default)'),
  canary: z.boolean().optional().describe('compare changed hosts with unchanged ones (default true); false: thresholds only'),
  description: z.string().optional(),
});

export const RestartSchema = z.strictObject({
  systemd: z.string().regex(/^[A-Za-z0-9@._:-]+\.(service|socket|target)$/).optional().describe('systemd unit, e.g. haproxy.service'),
  runit: identifier.optional().describe('runit service name (sv restart NAME)'),
  command: z.array(z.string().min(1)).min(1).optional().describe('explicit restart command as an argument array'),
});

export const ServiceSchema = z.strictObject({
  name: identifier,
  description: z.string().optional(),
  criticality: CriticalitySchema,
  packages: z.array(packageName).optional().describe('packages that make up the service'),
  dependsOn: z.array(identifier).optional().describe('services this one needs to work'),
  restart: RestartSchema.optional(),
  health: z.strictObject({
    http: z.array(HttpProbeSchema).optional(),
    command: z.array(CommandProbeSchema).optional(),
  }).optional(),
  metrics: z.array(MetricQuerySchema).optional(),
});

export const FunctionalRequirementSchema = z.strictObject({
  package: relation.describe('when this package (version range) is deployed, e.g. `shopfront (>= 2.0.0)`'),
  requires: relation.describe('it needs this somewhere in the fleet it talks to, e.g. `postgresql (>= 15)`'),
  reason: z.string().optional(),
});

export const FunctionalImpactSchema = z.strictObject({
  package: packageName.describe('changing this package...'),
  service: identifier.describe('...affects this service'),
  impact: ImpactKindSchema,
  reason: z.string().optional(),
});

export const FunctionalSchema = z.strictObject({
  requires: z.array(FunctionalRequirementSchema).optional(),
  impacts: z.array(FunctionalImpactSchema).optional(),
});

export const KnownIssueSchema = z.strictObject({
  id: identifier,
  title: z.string().min(1),
  when: z.strictObject({
    packages: relationList.optional().describe('all of these are installed (each may be `a | b`)'),
    environment: EnvironmentMatchSchema.optional(),
  }).describe('the condition: every part given must hold'),
  effect: z.strictObject({
    impact: z.enum(['outage', 'performance', 'resources', 'data-loss', 'security']),
    services: z.array(identifier).optional(),
    description: z.string().min(1),
  }),
  severity: SeveritySchema,
  evidence: z.array(z.string()).optional().describe('incident ids, URLs, log lines'),
  source: z.string().min(1).describe('who or what reported it (bug URL, incident, rollback)'),
  workaround: z.string().optional(),
});

export const ConfigFileSchema = z.strictObject({
  path: hostPath,
  package: packageName.describe('package that ships or owns the file'),
  owner: z.string().regex(/^[a-z_][a-z0-9_-]*$/).default('root'),
  group: z.string().regex(/^[a-z_][a-z0-9_-]*$/).default('root'),
  mode: z.string().regex(/^0?[0-7]{3}$/).default('0644').describe('octal mode as a quoted string, e.g. "0640"'),
  reload: identifier.optional().describe('service to reload or restart when the file changes'),
});

export const KbDocumentSchema = z.strictObject({
  apiVersion: z.literal(KB_API_VERSION),
  kind: z.literal(KB_KIND),
  layer: LayerHeaderSchema,
  packages: z.array(PackageSchema).optional(),
  services: z.array(ServiceSchema).optional(),
  functional: FunctionalSchema.optional(),
  knownIssues: z.array(KnownIssueSchema).optional(),
  configFiles: z.array(ConfigFileSchema).optional(),
}).describe('A Rollwise knowledge-base file (see docs/knowledge-base.md)');

export type KbDocument = z.output<typeof KbDocumentSchema>;
export type KbLayerHeader = z.output<typeof LayerHeaderSchema>;
export type KbPackage = z.output<typeof PackageSchema>;
export type KbPackageVersion = z.output<typeof PackageVersionSchema>;
export type KbService = z.output<typeof ServiceSchema>;
export type KbMetricQuery = z.output<typeof MetricQuerySchema>;
export type KbHttpProbe = z.output<typeof HttpProbeSchema>;
export type KbCommandProbe = z.output<typeof CommandProbeSchema>;
export type KbFunctionalRequirement = z.output<typeof FunctionalRequirementSchema>;
export type KbFunctionalImpact = z.output<typeof FunctionalImpactSchema>;
export type KbKnownIssue = z.output<typeof KnownIssueSchema>;
export type KbConfigFile = z.output<typeof ConfigFileSchema>;
export type KbMigration = z.output<typeof MigrationSchema>;
export type KbResourceProfile = z.output<typeof ResourceProfileSchema>;
export type KbDataConversion = z.output<typeof DataConversionSchema>;
export type KbEnvironmentRequirement = z.output<typeof EnvironmentRequirementSchema>;
export type KbEnvironmentMatch = z.output<typeof EnvironmentMatchSchema>;
export type Criticality = z.output<typeof CriticalitySchema>;

/** The JSON Schema editors use (VS Code YAML: `# yaml-language-server: $schema=...`). */
export function createKbJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(KbDocumentSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  return { ...schema, $id: 'https://rollwise.dev/schema/rollwise-kb.schema.json', title: 'Rollwise knowledge base' };
}

/** The JSON Schema file's exact text (2-space JSON and a final newline). */
export function renderKbJsonSchema(): string {
  return JSON.stringify(createKbJsonSchema(), null, 2) + '\n';
}
