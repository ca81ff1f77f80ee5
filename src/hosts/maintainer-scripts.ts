/**
 * Maintainer scripts of the packages an apt transaction would touch, and whether they may run
 * chrootless. With `dpkg --root --force-script-chrootless` (a directory root) a package's
 * preinst/postinst/prerm/postrm/config run on the real filesystem of the machine dpkg runs on,
 * with only $DPKG_ROOT to tell them where the root is: fine for packages built to act only under
 * $DPKG_ROOT (the lab's), dangerous for real ones. So the directory-root driver first asks apt
 * which .deb files and removals the transaction holds (apt's Pre-Install-Pkgs hook, protocol
 * version 3, without letting apt go on to dpkg), reads each .deb's control archive, and runs the
 * transaction only when every script it would run belongs to a package it was told to trust.
 */

/** Maintainer scripts dpkg may run from a package's control archive. */
export const MAINTAINER_SCRIPTS = ['preinst', 'postinst', 'prerm', 'postrm', 'config'] as const;
/** Scripts of an installed package that run when it is upgraded, downgraded or removed. */
export const INSTALLED_SCRIPTS_RUN_ON_CHANGE = ['prerm', 'postrm'] as const;

/** Which packages' maintainer scripts may run chrootless (on the machine's real filesystem). */
export interface ChrootlessScripts {
  trusted(name: string, version: string): boolean;
}

/** One line of apt's Pre-Install-Pkgs protocol version 3. */
export interface AptHookAction {
  name: string;
  /** Installed version and architecture before the transaction (undefined when not installed). */
  oldVersion?: string;
  oldArchitecture?: string;
  newVersion?: string;
  newArchitecture?: string;
  /** `unpack` (from `deb`), `configure` or `remove`. */
  action: 'unpack' | 'configure' | 'remove';
  deb?: string;
}

/**
 * Package lines of a version-3 hook input (after the header and its blank line):
 * `name old-version old-arch old-multiarch direction new-version new-arch new-multiarch action`,
 * the action being a .deb path, `**CONFIGURE**` or `**REMOVE**`.
 */
export function parseAptHookV3(text: string): AptHookAction[] {
  const lines = text.split('\n');
  // the input may still carry the header (VERSION 3, the configuration, a blank line)
  const blank = lines[0]?.startsWith('VERSION ') ? lines.indexOf('') : -1;
  const out: AptHookAction[] = [];
  for (const line of lines.slice(blank + 1)) {
    if (line.trim() === '') continue;
    const f = line.split(' ');
    if (f.length < 9) throw new Error(`unexpected line from apt's Pre-Install-Pkgs hook: ${JSON.stringify(line)}`);
    const [name, oldVersion, oldArch, , , newVersion, newArch] = f as [string, string, string, string, string, string, string];
    const actionText = f.slice(8).join(' ');
    const action = actionText === '**CONFIGURE**' ? 'configure' : actionText === '**REMOVE**' ? 'remove' : 'unpack';
    out.push({
      name,
      ...(oldVersion !== '-' ? { oldVersion, oldArchitecture: oldArch } : {}),
      ...(newVersion !== '-' ? { newVersion, newArchitecture: newArch } : {}),
      action,
      ...(action === 'unpack' ? { deb: actionText } : {}),
    });
  }
  return out;
}

export interface DebControlSummary {
  name: string;
  version: string;
  architecture: string;
  /** Maintainer scripts in the control archive. */
  scripts: string[];
}

/** What `dpkg-deb -I FILE` prints: the control archive's members, then the control fields. */
export function parseDebInfo(text: string): DebControlSummary {
  const members: string[] = [];
  const fields: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*\d+ bytes,\s+\d+ lines\s+(?:\*\s+)?(\S+)/.exec(line);
    if (m) {
      members.push(m[1]!);
      continue;
    }
    const f = /^ ([A-Za-z][A-Za-z0-9-]*):\s*(.*)$/.exec(line);
    if (f && fields[f[1]!] === undefined) fields[f[1]!] = f[2]!.trim();
  }
  return {
    name: fields['Package'] ?? '',
    version: fields['Version'] ?? '',
    architecture: fields['Architecture'] ?? '',
    scripts: members.filter((m) => (MAINTAINER_SCRIPTS as readonly string[]).includes(m)),
  };
}
