// Unit tests of command construction and input rejection (recording runners: nothing runs).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  buildRemoteCommand,
  buildSshCommand,
  createDirectoryRootDriver,
  createLocalDriver,
  createRecordingRunner,
  createRunitServiceControl,
  createSshDriver,
  createSystemdServiceControl,
  quoteForShell,
  renderAptConfig,
  type HostDriver,
  type RunResult,
} from '../../src/hosts/index.js';
import type { Step } from '../../src/planner/index.js';

const HOSTILE_NAMES = ['bad name', 'x;rm -rf /', '$(touch /tmp/pwned)', '-oDir=/', '`id`', 'a\nb', 'UPPER', 'x', '', '../etc'];
const HOSTILE_VERSIONS = ['1.0; rm -rf /', '$(id)', '-1', '`id`', '1.0\n2', '1 0', '', ':1', '1.0-'];

function drivers(): Array<{ label: string; driver: HostDriver; calls: () => number }> {
  const a = createRecordingRunner();
  const b = createRecordingRunner();
  const c = createRecordingRunner();
  return [
    { label: 'directory root', driver: createDirectoryRootDriver({ root: '/tmp/rw-never', runner: a }), calls: () => a.calls.length },
    { label: 'local', driver: createLocalDriver({ runner: b }), calls: () => b.calls.length },
    {
      label: 'ssh',
      driver: createSshDriver({ ssh: { host: '10.0.0.9', knownHostsFile: '/tmp/rw-never/known_hosts' }, root: '/srv/root', localRunner: c }),
      calls: () => c.calls.length,
    },
  ];
}

describe('hostile package names and versions are rejected before any command runs', () => {
  for (const { label, driver, calls } of drivers()) {
    it(`on the ${label} driver`, async () => {
      for (const name of HOSTILE_NAMES) {
        for (const action of ['install', 'remove'] as const) {
          const o = await driver.apply({ kind: 'packages', changes: [{ name, action, to: '1.0' }] });
          expect(o.status).toBe('failed');
          if (o.status === 'failed') {
            expect(o.failure.kind).toBe('rejected');
            if (o.failure.kind === 'rejected') expect(o.failure.code).toBe('RW_BAD_NAME');
          }
        }
      }
      for (const version of HOSTILE_VERSIONS) {
        const o = await driver.apply({ kind: 'packages', changes: [{ name: 'good', action: 'upgrade', to: version }] });
        expect(o.status === 'failed' && o.failure.kind === 'rejected' && o.failure.code).toBe('RW_BAD_VERSION');
      }
      // one hostile change among good ones rejects the whole step
      const mixed = await driver.apply({
        kind: 'packages',
        changes: [
          { name: 'good', action: 'install', to: '1.0' },
          { name: 'evil;reboot', action: 'install', to: '1.0' },
        ],
      });
      expect(mixed.status).toBe('failed');
      const others: Step[] = [
        { kind: 'service', action: 'restart', service: 'x; reboot' },
        { kind: 'service', action: 'restart', service: '-f' },
        { kind: 'write-config', path: 'relative/path', content: 'x' },
        { kind: 'write-config', path: '/etc/../../root/.ssh/authorized_keys', content: 'x' },
        { kind: 'restore-config', path: '/etc/x\nboom', state: { kind: 'absent' } },
        { kind: 'migrate', database: { name: 'db', host: 'localhost', port: 5432, user: 'postgres', database: 'x; DROP', table: 'schema_migrations' }, migration: { version: '1', direction: 'up', sql: '' } },
        { kind: 'migrate', database: { name: 'db', host: 'localhost', port: 5432, user: 'postgres', database: 'app' }, migration: { version: "1'; DROP", direction: 'up', sql: '' } },
        { kind: 'packages', changes: [{ name: 'good', action: 'install', to: '1.0', debPath: '/tmp/$(id).deb; rm' }] },
      ];
      for (const step of others) {
        const o = await driver.apply(step);
        expect(o.status, JSON.stringify(step)).toBe('failed');
        expect(o.status === 'failed' && o.failure.kind).toBe('rejected');
      }
      expect(calls()).toBe(0);
    });
  }

  it('accepts the grammar and then does run commands (the recorder sees them)', async () => {
    const r = createRecordingRunner();
    const d = createDirectoryRootDriver({ root: '/tmp/rw-never', runner: r });
    await d.apply({ kind: 'packages', changes: [{ name: 'libfoo1.2+x', action: 'install', to: '1:2.0~rc1-1+b1' }] });
    expect(r.calls.length).toBeGreaterThan(0);
  });
});

/**
 * Answers what the directory-root driver asks before apt runs: a temporary directory for apt's
 * hook, and no recorded transaction (as when apt stops before dpkg), so its first apt-get call is
 * the step's.
 */
function aptAnswers(argv: readonly string[]): RunResult {
  const ex = (stdout: string, exitCode = 0): RunResult => ({ kind: 'exited', exitCode, stdout, stderr: '', durationMs: 0 });
  if (argv[0] === 'mktemp') return ex('/tmp/rollwise-apt.TEST\n');
  if (argv[0] === 'cat' && argv[2] === '/tmp/rollwise-apt.TEST/list') return ex('', 1);
  return ex(argv[0] === 'dpkg-query' ? 'demo\t1.0\tall\tii \tinstalled\n' : '');
}

describe('directory-root command construction', () => {
  it('guards apt with the per-host config and repeats Dir and --root on the command line', async () => {
    const r = createRecordingRunner(aptAnswers);
    const d = createDirectoryRootDriver({ root: '/srv/h1/', runner: r });
    await d.apply({ kind: 'packages', changes: [{ name: 'demo', action: 'downgrade', to: '0.9' }] });
    const [guard, ...rest] = r.calls;
    expect(guard!.argv).toEqual(['test', '-f', '/srv/h1/var/lib/rollwise/apt.conf', '-a', '-f', '/srv/h1/var/lib/dpkg/status']);
    const apt = rest.find((c) => c.argv[0] === 'apt-get')!;
    expect(apt.options.env?.APT_CONFIG).toBe('/srv/h1/var/lib/rollwise/apt.conf');
    expect(apt.argv).toContain('Dir=/srv/h1/');
    expect(apt.argv).toContain('DPkg::Options::=--root=/srv/h1');
    expect(apt.argv).toContain('--allow-downgrades');
    expect(apt.argv).toContain('--no-remove');
    expect(apt.argv.slice(-2)).toEqual(['install', 'demo=0.9']);
    const query = rest.find((c) => c.argv[0] === 'dpkg-query')!;
    expect(query.argv[1]).toBe('--admindir=/srv/h1/var/lib/dpkg');
    // apt first only records the transaction (its maintainer scripts are checked before dpkg runs)
    expect(apt.argv).toContain('DPkg::Pre-Install-Pkgs::=/tmp/rollwise-apt.TEST/hook check');
    expect(apt.argv).toContain('DPkg::Tools::Options::/tmp/rollwise-apt.TEST/hook::Version=3');
    expect(r.calls.map((c) => c.argv)).toContainEqual(['rm', '-rf', '--', '/tmp/rollwise-apt.TEST']);
  });

  it('drops --no-remove only when removal was planned, and purges with --purge (a second call when mixed)', async () => {
    const r = createRecordingRunner(aptAnswers);
    const d = createDirectoryRootDriver({ root: '/srv/h1', runner: r });
    await d.apply({ kind: 'packages', changes: [{ name: 'a1', action: 'remove' }, { name: 'b1', action: 'purge' }, { name: 'c1', action: 'install', to: '2' }] });
    const apt = r.calls.filter((c) => c.argv[0] === 'apt-get');
    expect(apt[0]!.argv).not.toContain('--no-remove');
    expect(apt[0]!.argv).not.toContain('--purge');
    expect(apt[0]!.argv).not.toContain('--allow-downgrades');
    expect(apt[0]!.argv.slice(-4)).toEqual(['install', 'a1-', 'b1-', 'c1=2']);
    expect(apt[1]!.argv.slice(-2)).toEqual(['purge', 'b1']);
    r.calls.length = 0;
    await d.apply({ kind: 'packages', changes: [{ name: 'b1', action: 'purge' }] });
    const only = r.calls.filter((c) => c.argv[0] === 'apt-get');
    expect(only).toHaveLength(1);
    expect(only[0]!.argv).toContain('--purge');
  });

  it('refuses to run apt when the per-host apt configuration is missing', async () => {
    const r = createRecordingRunner((argv): RunResult => ({ kind: 'exited', exitCode: argv[0] === 'test' ? 1 : 0, stdout: '', stderr: '', durationMs: 0 }));
    const d = createDirectoryRootDriver({ root: '/srv/h1', runner: r });
    const o = await d.apply({ kind: 'refresh-index' });
    expect(o.status === 'failed' && o.failure.kind).toBe('precondition');
    expect(r.calls.map((c) => c.argv[0])).toEqual(['test']);
  });

  it('writes an apt configuration that keeps every path inside the root', () => {
    const text = renderAptConfig('/srv/h1', 'amd64');
    expect(text).toContain('Dir "/srv/h1/";');
    expect(text).toContain('Dir::State::status "/srv/h1/var/lib/dpkg/status";');
    expect(text).toContain('"--root=/srv/h1"');
    expect(text).toContain('"--log=/srv/h1/var/log/dpkg.log"');
    expect(text).toContain('"--force-script-chrootless"');
    expect(text).toContain('Debug::NoLocking "true";');
    expect(text).toContain('APT::Sandbox::User "root";');
    expect(() => renderAptConfig('/srv/"x', 'amd64')).toThrow();
  });
});

describe('local driver command construction (never run for real here)', () => {
  it('uses apt-get with confdef/confold on the system and systemctl for services', async () => {
    const r = createRecordingRunner();
    const d = createLocalDriver({ runner: r });
    await d.apply({ kind: 'packages', changes: [{ name: 'nginx', action: 'upgrade', to: '1.22.1-9' }] });
    const apt = r.calls.find((c) => c.argv[0] === 'apt-get')!;
    expect(apt.argv).toContain('DPkg::Options::=--force-confold');
    expect(apt.argv).not.toContainEqual(expect.stringMatching(/--root/));
    expect(apt.options.env?.APT_CONFIG).toBeUndefined();
    expect(apt.options.env?.DEBIAN_FRONTEND).toBe('noninteractive');
    expect(apt.argv.slice(-2)).toEqual(['install', 'nginx=1.22.1-9']);
    expect(r.calls.some((c) => c.argv[0] === 'test')).toBe(false);
    const dq = r.calls.find((c) => c.argv[0] === 'dpkg-query')!;
    expect(dq.argv[1]).toBe('-W');
    r.calls.length = 0;
    await d.apply({ kind: 'service', action: 'restart', service: 'nginx.service' });
    expect(r.calls.map((c) => c.argv)).toEqual([['systemctl', 'restart', '--', 'nginx.service']]);
  });

  it('reads facts from the usual system commands', async () => {
    const osRelease = 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n';
    const answers: Record<string, string> = {
      dpkg: 'arm64\n',
      uname: '6.1.0-18-arm64\n',
      nproc: '4\n',
      df: 'Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/sda1 20480000 10240000 10240000 50% /\n',
    };
    const r = createRecordingRunner((argv): RunResult => {
      // files are read through the confined reader (sh -c SCRIPT rollwise-file read ROOT PATH)
      const file = argv[0] === 'sh' && argv[3] === 'rollwise-file' && argv[4] === 'read' && argv[6] === '/etc/os-release';
      const out = argv[0] === 'cat' && argv[1] === '/proc/meminfo' ? 'MemTotal:        4194304 kB\n' : file ? `present\n${osRelease}` : answers[argv[0]!] ?? '';
      return { kind: 'exited', exitCode: 0, stdout: out, stderr: '', durationMs: 0 };
    });
    const f = await createLocalDriver({ runner: r }).readFacts();
    expect(f).toEqual({
      kind: 'ok',
      value: { os: { id: 'debian', versionId: '12', codename: 'bookworm' }, architecture: 'arm64', kernel: '6.1.0-18-arm64', memoryMiB: 4096, cpus: 4, diskTotalMiB: 20000, diskFreeMiB: 10000 },
    });
  });
});

describe('service adapters', () => {
  it('runit addresses services by absolute path and maps start/stop to up/down', () => {
    const s = createRunitServiceControl({ svdir: '/srv/h1/etc/service' });
    expect(s.actionCommand('start', 'web')).toEqual(['sv', '-w', '10', 'up', '/srv/h1/etc/service/web']);
    expect(s.actionCommand('stop', 'web')).toEqual(['sv', '-w', '10', 'down', '/srv/h1/etc/service/web']);
    expect(s.statusCommand('web')).toEqual(['sv', 'status', '/srv/h1/etc/service/web']);
    const ex = (stdout: string, exitCode = 0): RunResult => ({ kind: 'exited', exitCode, stdout, stderr: '', durationMs: 0 });
    expect(s.parseStatus(ex('run: /srv/h1/etc/service/web: (pid 12) 3s; run: log: (pid 11) 3s\n'))).toBe('running');
    expect(s.parseStatus(ex('down: /srv/h1/etc/service/web: 2s, normally up\n'))).toBe('stopped');
    expect(s.parseStatus(ex('fail: /srv/h1/etc/service/web: unable to change to service directory: file does not exist\n', 1))).toBe('absent');
    expect(s.parseStatus(ex('warning: /srv/h1/etc/service/web: unable to open /srv/h1/etc/service/web/supervise/ok: file does not exist\n', 1))).toBe('unsupervised');
    expect(s.parseStatus({ kind: 'lost', reason: 'x', stdout: '', stderr: '', durationMs: 0 })).toBe('unknown');
    expect(() => s.actionCommand('restart', '../x')).toThrow(/service name/);
  });

  it('systemd uses systemctl with -- before the unit', () => {
    const s = createSystemdServiceControl();
    expect(s.actionCommand('restart', 'nginx')).toEqual(['systemctl', 'restart', '--', 'nginx']);
    expect(s.statusCommand('nginx')).toEqual(['systemctl', 'is-active', '--', 'nginx']);
    const ex = (stdout: string, exitCode: number): RunResult => ({ kind: 'exited', exitCode, stdout, stderr: '', durationMs: 0 });
    expect(s.parseStatus(ex('active\n', 0))).toBe('running');
    expect(s.parseStatus(ex('inactive\n', 3))).toBe('stopped');
    expect(s.parseStatus(ex('failed\n', 3))).toBe('failed');
  });
});

describe('ssh command construction and remote quoting', () => {
  const o = { host: '10.1.2.3', port: 2222, user: 'deploy', identityFile: '/k/id', knownHostsFile: '/k/known_hosts', controlPath: '/k/cm.sock', connectTimeoutSeconds: 4 };

  it('uses batch mode, strict host keys, a timeout and multiplexing, then -- host command', () => {
    const argv = buildSshCommand(o, ['dpkg-query', '-W'], { LC_ALL: 'C' });
    expect(argv[0]).toBe('ssh');
    const opts = argv.join(' ');
    for (const want of ['BatchMode=yes', 'StrictHostKeyChecking=yes', 'UserKnownHostsFile="/k/known_hosts"', 'GlobalKnownHostsFile=/dev/null', 'ConnectTimeout=4', 'ControlMaster=auto', 'ControlPath="/k/cm.sock"', 'ControlPersist=60']) {
      expect(opts).toContain(want);
    }
    const dd = argv.indexOf('--');
    expect(argv.slice(dd)).toEqual(['--', '10.1.2.3', "'env' 'LC_ALL=C' 'dpkg-query' '-W'"]);
    expect(argv).toContain('2222');
    expect(() => buildSshCommand({ ...o, host: '-oProxyCommand=touch /tmp/x' }, ['true'])).toThrow(/SSH host/);
    expect(() => buildSshCommand({ ...o, user: 'a b' }, ['true'])).toThrow(/SSH user/);
    expect(() => buildSshCommand({ ...o, knownHostsFile: 'rel' }, ['true'])).toThrow(/absolute/);
  });

  it('quotes arguments so a POSIX shell gets them back byte for byte', () => {
    const nasty = ["it's", '$(touch /tmp/rw-pwned)', '`id`', 'a b\tc', 'x\ny', "'", '"', '\\', '-n', ';|&<>*?', ''];
    const script = `printf '%s\\0' ${nasty.map(quoteForShell).join(' ')}`;
    const r = spawnSync('sh', ['-c', script], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout.split('\0').slice(0, -1)).toEqual(nasty);
    expect(buildRemoteCommand(['echo', "O'Neil"])).toBe("'echo' 'O'\\''Neil'");
    expect(() => buildRemoteCommand(['true'], { 'A B': '1' })).toThrow(/environment/);
  });

  it('turns ssh exit 255 into a lost result, so the step outcome is unknown', async () => {
    const local = createRecordingRunner(() => ({ kind: 'exited', exitCode: 255, stdout: '', stderr: 'ssh: connect to host 10.1.2.3 port 2222: Connection refused\n', durationMs: 1 }));
    const d = createSshDriver({ ssh: o, localRunner: local });
    const out = await d.apply({ kind: 'service', action: 'restart', service: 'web' });
    expect(out.status).toBe('unknown');
    expect(out.status === 'unknown' && out.reason).toMatch(/Connection refused/);
    expect(local.calls[0]!.argv.at(-1)).toBe("'env' 'LC_ALL=C' 'systemctl' 'restart' '--' 'web'");
  });
});
