/**
 * Options several commands share, defined once: where the fleet comes from (inventories, the
 * local host, SSH hosts and their settings) and the operator's permission for files outside
 * a data file's folder.
 */
import { Option, type Command } from 'commander';
import { collect } from './terminal.js';

export const SSH_OPTION_HELP = {
  knownHosts: 'known_hosts file for SSH; host keys are always checked strictly (default: ssh.knownHosts of the inventory, else ~/.ssh/known_hosts)',
  identity: 'SSH private key',
  config: 'ssh config file (-F) for every SSH host, e.g. for jump hosts; without it ssh reads no config file (-F none). Trusted: it may run commands on this machine (ProxyCommand, Match exec); inventories cannot name one',
};

export const OUTSIDE_PATHS_HELP =
  "accept files named by an inventory (status:) or a knowledge base (migration scripts) outside that file's folder: absolute paths, '..', links out of it (refused by default: such files are data, often written by others)";

/** What the fleet options give an action. */
export interface FleetOptionValues {
  inventory: string[];
  local: boolean;
  sshHost: string[];
  knownHosts?: string;
  sshIdentity?: string;
  sshConfig?: string;
  allowOutsidePaths?: boolean;
}

/** --inventory, --local, --ssh-host, the SSH settings and --allow-outside-paths. */
export function addFleetOptions(cmd: Command, localHelp = 'include this machine (its dpkg status, read-only)'): Command {
  return cmd
    .option('--inventory <file>', 'YAML inventory (repeatable)', collect, [])
    .option('--local', localHelp, false)
    .option('--ssh-host <[user@]host[:port]>', 'collect a host over SSH (repeatable)', collect, [])
    .option('--known-hosts <file>', SSH_OPTION_HELP.knownHosts)
    .option('--ssh-identity <file>', SSH_OPTION_HELP.identity)
    .option('--ssh-config <file>', SSH_OPTION_HELP.config)
    .option('--allow-outside-paths', OUTSIDE_PATHS_HELP, false);
}

/** What --index and --no-index give: the indexes named, and whether the default one is refused. */
export interface IndexChoice {
  files: string[];
  noDefault: boolean;
}

/**
 * --index FILE (repeatable) and --no-index (no default index; those named are still loaded), in
 * either order. One value, so neither option overwrites the other.
 */
export function addIndexOptions(cmd: Command, indexHelp: string): Command {
  return cmd
    .addOption(new Option('--index <file>', indexHelp).argParser((file: string, prev: IndexChoice | undefined): IndexChoice => ({ files: [...(prev?.files ?? []), file], noDefault: prev?.noDefault ?? false })))
    .addOption(new Option('--no-index', 'do not load the default Debian index (indexes named with --index are still loaded)').preset('').argParser((_v: string, prev: IndexChoice | undefined): IndexChoice => ({ files: prev?.files ?? [], noDefault: true })));
}
