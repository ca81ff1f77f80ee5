/** Colours for rendered text, injected: the CLI passes real ones only on terminals, PLAIN elsewhere. */
export interface Palette {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

const id = (s: string): string => s;
export const PLAIN: Palette = { bold: id, dim: id, red: id, green: id, yellow: id, cyan: id };
