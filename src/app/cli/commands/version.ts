import { Option, type Command } from 'commander';
import { RollwiseError } from '../../../shared/index.js';
import { getScheme, parseOperator, satisfiesRelation, SCHEME_NAMES, type VersionScheme } from '../../../versions/index.js';

function schemeOption(): Option {
  return new Option('--scheme <scheme>', 'version scheme: deb (dpkg order), semver (SemVer 2.0.0), cudf (positive integers)')
    .choices(SCHEME_NAMES as string[])
    .default('deb');
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Splits standard input into lines (a final newline does not start another line; CRLF is fine). */
function splitLines(text: string): string[] {
  if (text.length === 0) return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

/** User text quoted safely in a one-line message: control characters escaped, long text cut. */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  const s = text.replace(/[\x00-\x1f\x7f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** Validates every line first (nothing is printed if one is bad), then sorts stably. */
export function sortVersionLines(scheme: VersionScheme, lines: readonly string[], reverse: boolean): string[] {
  lines.forEach((line, i) => {
    const r = scheme.check(line);
    if (!r.ok) {
      throw new RollwiseError('RW_BAD_VERSION', `'${printable(line)}' is not a valid ${scheme.label} version: ${r.reason}`, {
        position: { file: '<stdin>', line: i + 1, column: 1 },
        hint: 'give one version per line; nothing was printed',
      });
    }
  });
  const cmp = scheme.compare;
  return [...lines].sort(reverse ? (a, b) => cmp(b, a) : cmp);
}

export function register(program: Command): void {
  const version = program
    .command('version')
    .description('compare and sort versions (for scripts); schemes: deb, semver, cudf')
    .addHelpText(
      'after',
      '\nSchemes:\n' +
        '  deb     Debian versions [epoch:]upstream[-revision], ordered exactly like dpkg (the default)\n' +
        '  semver  semantic versions MAJOR.MINOR.PATCH[-pre][+build] (build metadata does not order)\n' +
        '  cudf    CUDF versions: positive integers\n' +
        'Bad input is one line `RW_BAD_VERSION: ...` on stderr and exit status 2.',
    );

  version
    .command('compare')
    .description('exit 0 if `A OP B` holds, 1 if not (like `dpkg --compare-versions`), 2 for bad input')
    .argument('<a>', 'first version')
    .argument('<op>', 'relation: << <= = >= >> != (or lt le eq ne ge gt)')
    .argument('<b>', 'second version')
    .addOption(schemeOption())
    .addHelpText(
      'after',
      '\nExamples:\n' +
        "  rollwise version compare 1.0~rc1 '<<' 1.0            # exit 0: ~ sorts before the end\n" +
        '  rollwise version compare --scheme semver 1.10.0 gt 1.9.0   # exit 0\n' +
        '  rollwise version compare --scheme cudf 10 lt 9              # exit 1',
    )
    .action((a: string, op: string, b: string, opts: { scheme: string }) => {
      const scheme = getScheme(opts.scheme);
      const t = parseOperator(op);
      if (!t) throw new RollwiseError('RW_USAGE', `unknown relation '${op}'`, { hint: 'use one of << <= = >= >> != (or lt le eq ne ge gt)' });
      if (t.deprecated) process.stderr.write(`rollwise: warning: '${op}' is the obsolete spelling of '${t.op}' (as dpkg reads it); write '${t.op}', or '${op}${op}' for a strict comparison\n`);
      scheme.parse(a);
      scheme.parse(b);
      process.exitCode = satisfiesRelation(scheme, a, t.op, b) ? 0 : 1;
    });

  version
    .command('sort')
    .description('read versions from standard input, one a line, and print them in ascending order')
    .addOption(schemeOption())
    .option('--reverse', 'print in descending order instead', false)
    .addHelpText(
      'after',
      '\nEqual versions (such as 1.0 and 1.0-0 for deb) keep their input order. Every line is checked\n' +
        'first: a bad one gives one error `<stdin>:LINE:1`, exit status 2, and nothing on stdout.\n' +
        '\nExample:\n' +
        "  printf '1.0\\n1.0~rc1\\n1:0.9\\n' | rollwise version sort      # 1.0~rc1, 1.0, 1:0.9",
    )
    .action(async (opts: { scheme: string; reverse: boolean }) => {
      const scheme = getScheme(opts.scheme);
      const sorted = sortVersionLines(scheme, splitLines(await readStdin()), opts.reverse);
      if (sorted.length > 0) process.stdout.write(`${sorted.join('\n')}\n`);
    });
}
