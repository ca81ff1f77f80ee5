/**
 * Success and failure conditions of metric checks: `< 0.05`, `>= 1 and <= 5`, `== 1`. Numbers
 * only and strict `<`/`>` (these are thresholds, not package relations). Durations (`10s`, `2m`)
 * as the knowledge base writes them. A bad text is a RollwiseError (RW_CHECK) with the position
 * of the text when the caller knows it.
 */
import { RollwiseError, type SourcePosition } from '../shared/index.js';
import type { ComparisonOp, Condition } from './verdict-model.js';

const TERM = /^(<=|>=|==|!=|<|>)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)$/;

/** Reads `OP NUMBER [and OP NUMBER ...]`. */
export function parseCondition(text: string, position?: SourcePosition): Condition {
  const parts = text.trim().split(/\s+and\s+/);
  const terms = parts.map((part) => {
    const m = TERM.exec(part.trim());
    if (!m) {
      throw new RollwiseError('RW_CHECK', `bad condition ${JSON.stringify(text.slice(0, 80))}`, {
        hint: 'write a comparison with a number, e.g. `< 0.05`, `>= 100`, `>= 1 and <= 5` (operators < <= > >= == !=)',
        ...(position ? { position } : {}),
      });
    }
    return { op: m[1] as ComparisonOp, value: Number(m[2]) };
  });
  return { terms, text: text.trim() };
}

/** A condition from a knowledge-base threshold: healthy at or below `max`, at or above `min`. */
export function conditionFromBounds(bounds: { min?: number; max?: number }): Condition | undefined {
  const terms: Condition['terms'] = [];
  if (bounds.min !== undefined) terms.push({ op: '>=', value: bounds.min });
  if (bounds.max !== undefined) terms.push({ op: '<=', value: bounds.max });
  if (terms.length === 0) return undefined;
  return { terms, text: terms.map((t) => `${t.op} ${t.value}`).join(' and ') };
}

export function holds(condition: Condition, value: number): boolean {
  if (Number.isNaN(value)) return false;
  return condition.terms.every(({ op, value: v }) => {
    switch (op) {
      case '<': return value < v;
      case '<=': return value <= v;
      case '>': return value > v;
      case '>=': return value >= v;
      case '==': return value === v;
      case '!=': return value !== v;
    }
  });
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `250ms`, `10s`, `2m`, `1h` in milliseconds. */
export function parseDuration(text: string, position?: SourcePosition): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(text.trim());
  if (!m) {
    throw new RollwiseError('RW_CHECK', `bad duration ${JSON.stringify(text.slice(0, 40))}`, {
      hint: 'a whole number and a unit: ms, s, m or h (e.g. 10s, 2m)',
      ...(position ? { position } : {}),
    });
  }
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}
