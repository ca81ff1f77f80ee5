// The one ssh argument builder (src/hosts/ssh.ts), the fleet collector built on it, and the
// runner's output cap. Argument building is checked with the recording runner; the cap with a
// real process.
import { describe, expect, it } from 'vitest';
import { buildSshArgs, checkSshExtraOptions, createHostCollector, createLocalRunner, createRecordingRunner, type RunResult, type SshConnectionOptions } from '../../src/hosts/index.js';
import { COLLECT_SCRIPT, type CollectTarget } from '../../src/fleet/index.js';

const base: SshConnectionOptions = { host: 'web-1', knownHostsFile: '/k/known_hosts' };
const valueOf = (args: string[], key: string): string | undefined => args.filter((a, i) => args[i - 1] === '-o' && a.startsWith(`${key}=`)).map((a) => a.slice(key.length + 1))[0];

describe('the ssh argument builder', () => {
  it('accepts every host and user an inventory accepts (IPv6, `_`, upper-case users) and nothing option-like', () => {
    for (const host of ['web_1', 'db-2.example.org', '10.0.0.7', '2001:db8::10', '::1', 'fe80::1', '::ffff:10.0.0.1', 'H1']) {
      expect(() => buildSshArgs({ ...base, host }), host).not.toThrow();
    }
    for (const host of ['-oProxyCommand=touch /tmp/x', '-p', 'a b', 'host%h', 'user@host', '[::1]', '', 'a;b', '$(id)', 'a/b']) {
      expect(() => buildSshArgs({ ...base, host }), host).toThrow(/not a valid SSH host/);
    }
    expect(buildSshArgs({ ...base, user: 'Deploy_1' })).toEqual(expect.arrayContaining(['-l', 'Deploy_1']));
    for (const user of ['-oX', 'a b', '1abc', 'a@b', '']) expect(() => buildSshArgs({ ...base, user }), user).toThrow(/not a valid SSH user/);
  });

  it('reads no config file (-F none) unless the operator gives one; known hosts are always the given file only', () => {
    const plain = buildSshArgs(base);
    expect(plain.slice(0, 2)).toEqual(['-F', 'none']);
    expect(valueOf(plain, 'UserKnownHostsFile')).toBe('"/k/known_hosts"');
    expect(valueOf(plain, 'GlobalKnownHostsFile')).toBe('/dev/null');
    expect(valueOf(plain, 'BatchMode')).toBe('yes');
    expect(valueOf(plain, 'StrictHostKeyChecking')).toBe('yes');
    expect(plain).not.toContain('-p'); // ssh's default port, or the operator's config file's
    const withConfig = buildSshArgs({ ...base, configFile: '/home/op/ssh config' });
    expect(withConfig.slice(0, 2)).toEqual(['-F', '/home/op/ssh config']);
    expect(withConfig).not.toContain('none');
    expect(valueOf(withConfig, 'GlobalKnownHostsFile')).toBe('/dev/null');
    expect(() => buildSshArgs({ ...base, configFile: 'relative' })).toThrow(/absolute/);
  });

  it('passes paths with spaces and % so ssh reads them as one literal file (quoted, %% for %)', () => {
    const args = buildSshArgs({ ...base, knownHostsFile: '/k/my hosts/100%d/known_hosts', identityFile: "/k/it's %h/id", controlPath: '/k/c m/%C' });
    expect(valueOf(args, 'UserKnownHostsFile')).toBe('"/k/my hosts/100%%d/known_hosts"');
    expect(valueOf(args, 'IdentityFile')).toBe('"/k/it\'s %%h/id"');
    expect(valueOf(args, 'ControlPath')).toBe('"/k/c m/%%C"');
    expect(args).not.toContain('-i');
    for (const bad of ['rel/known_hosts', '/k/a"b', '/k/a\\b', '/k/a\nb']) {
      expect(() => buildSshArgs({ ...base, knownHostsFile: bad }), bad).toThrow(/absolute path without/);
    }
  });

  it('refuses extra options that could run a program or weaken host-key checking, whatever their case', () => {
    const refused = [
      'ProxyCommand=/tmp/evil', 'proxycommand=/tmp/evil', 'PROXYCOMMAND=/tmp/evil', 'ProxyCommand /tmp/evil', 'ProxyJump=jump.example', 'LocalCommand=/tmp/evil',
      'PermitLocalCommand=yes', 'KnownHostsCommand=/tmp/evil', 'Match=exec', 'Include=/tmp/evil.conf', 'PKCS11Provider=/tmp/evil.so',
      'SecurityKeyProvider=/tmp/evil.so', 'StrictHostKeyChecking=no', 'UserKnownHostsFile=/dev/null', 'RemoteCommand=id',
    ];
    for (const x of refused) expect(() => checkSshExtraOptions([x]), x).toThrow(/is refused: /);
    expect(() => checkSshExtraOptions(['ProxyCommand=/tmp/evil'])).toThrow(/runs a program on this machine/);
    expect(() => checkSshExtraOptions(['ProxyJump=jump'])).toThrow(/second ssh .*--ssh-config/);
    // not on the allowlist: refused too (new ssh versions add options that run programs)
    for (const x of ['SendEnv=FOO', 'IdentityAgent=/tmp/agent', 'Hostname=evil', 'constructor=x', 'Ciphers=aes128-ctr aes256-ctr']) {
      expect(() => checkSshExtraOptions([x]), x).toThrow(/not accepted|must be Key=Value/);
    }
    expect(() => checkSshExtraOptions(['ServerAliveInterval=3', 'ciphers=aes128-ctr,aes256-ctr', 'ConnectionAttempts=2'])).not.toThrow();
    expect(buildSshArgs({ ...base, extraOptions: ['Compression=yes'] })).toEqual(expect.arrayContaining(['-o', 'Compression=yes']));
  });
});

describe('the fleet collector (hosts behind the fleet port)', () => {
  const targets: CollectTarget[] = [{ name: 'a', ssh: { host: 'web_1' } }, { name: 'b', ssh: { host: '2001:db8::7', user: 'ops', port: 2200 } }];
  const answer = (stdout: string): RunResult => ({ kind: 'exited', exitCode: 0, stdout, stderr: '', durationMs: 1 });

  it('runs ssh with argument arrays from the one builder and the fixed script on stdin', async () => {
    const runner = createRecordingRunner(() => answer('@@rw:kernel\n6.1.0-18-amd64\n@@rw:dpkg\nbash\t5.2.15-2+b2\tamd64\tii \n@@rw:end\n'));
    const r = await createHostCollector({ runner }).collectSsh(targets, { knownHosts: '/k/known hosts', identity: '/k/id', connectTimeout: 3 });
    expect(r.map((x) => [x.name, x.kind])).toEqual([['a', 'collected'], ['b', 'collected']]);
    const [a, b] = runner.calls;
    expect(a!.argv).toEqual(['ssh', ...buildSshArgs({ host: 'web_1', knownHostsFile: '/k/known hosts', identityFile: '/k/id', connectTimeoutSeconds: 3 }), '--', 'web_1', "'sh' '-s'"]);
    expect(a!.argv.slice(1, 3)).toEqual(['-F', 'none']);
    expect(b!.argv.slice(-7)).toEqual(['-p', '2200', '-l', 'ops', '--', '2001:db8::7', "'sh' '-s'"]);
    expect(a!.options.input).toBe(COLLECT_SCRIPT);
    expect(a!.options.onOversizedOutput).toBe('kill');
    expect(a!.options.maxOutputBytes).toBe(4 * 1024 * 1024);
    const withConfig = createRecordingRunner(() => answer(''));
    await createHostCollector({ runner: withConfig }).collectSsh(targets.slice(0, 1), { knownHosts: '/k/kh', configFile: '/op/ssh_config' });
    expect(withConfig.calls[0]!.argv.slice(1, 3)).toEqual(['-F', '/op/ssh_config']);
  });

  it('refuses a bad target or option before any host is contacted', async () => {
    const runner = createRecordingRunner();
    const c = createHostCollector({ runner });
    await expect(c.collectSsh([...targets, { name: 'x', ssh: { host: '-oProxyCommand=touch /tmp/x' } }], { knownHosts: '/k/kh' })).rejects.toThrow(/not a valid SSH host/);
    await expect(c.collectSsh(targets, { knownHosts: '/k/kh', extraOptions: ['KnownHostsCommand=/tmp/evil'] })).rejects.toThrow(/is refused/);
    expect(runner.calls).toEqual([]);
  });

  it('makes an oversized answer a finding for that host; the others are collected', async () => {
    const runner = createRecordingRunner((argv) =>
      argv.includes('web_1')
        ? { kind: 'lost', reason: 'output larger than 4194304 bytes: stopped', stdout: 'x'.repeat(100), stderr: '', durationMs: 1, outputTruncated: true }
        : answer('@@rw:dpkg\nbash\t5.2.15-2+b2\tamd64\tii \n@@rw:end\n'),
    );
    const r = await createHostCollector({ runner }).collectSsh(targets, { knownHosts: '/k/kh' });
    expect(r[0]).toEqual({ kind: 'not-collected', name: 'a', finding: { kind: 'collection-failed', host: 'a', message: expect.stringMatching(/^answer larger than 4 MiB/) } });
    expect(r[1]).toMatchObject({ kind: 'collected', name: 'b', installed: [{ name: 'bash', version: '5.2.15-2+b2', architecture: 'amd64' }] });
  });
});

describe('the runner caps what it keeps of a command output', () => {
  it('stops a command that prints without end when told to, keeping exactly the cap', async () => {
    const r = await createLocalRunner().run(['yes', 'a line of output'], { maxOutputBytes: 1 << 20, onOversizedOutput: 'kill', timeoutMs: 60_000 });
    expect(r.kind).toBe('lost');
    if (r.kind !== 'lost') return;
    expect(r.outputTruncated).toBe(true);
    expect(r.reason).toMatch(/output larger than 1048576 bytes/);
    expect(r.stdout.length).toBe(1 << 20);
  });

  it('by default keeps the first bytes and lets the command finish', async () => {
    const r = await createLocalRunner().run(['sh', '-c', 'head -c 300000 /dev/zero | tr "\\0" x; echo done >&2'], { maxOutputBytes: 100_000 });
    expect(r).toMatchObject({ kind: 'exited', exitCode: 0, outputTruncated: true, stderr: 'done\n' });
    expect(r.kind === 'exited' && r.stdout.length).toBe(100_000);
  });
});
