/**
 * Quoting for a POSIX remote shell. ssh joins its command arguments with spaces and hands the
 * result to the remote user's shell, so every argument is wrapped in single quotes, with each
 * embedded single quote written as '\'' . Nothing is ever pasted unquoted.
 */
export function quoteForShell(arg: string): string {
  if (arg.includes('\u0000')) throw new Error('argument contains a NUL byte');
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** One remote command line from an argument array (each argument single-quoted). */
export function joinForShell(argv: readonly string[]): string {
  return argv.map(quoteForShell).join(' ');
}
