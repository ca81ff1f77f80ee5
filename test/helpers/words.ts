// Explanations and resolutions in the words the application renders them (tests compare wording).
import { renderExplanation, renderPlanExplanation } from '../../src/app/index.js';
import type { Explanation } from '../../src/solver/index.js';
import type { PlanExplanation } from '../../src/planner/index.js';

export { describeEdit, describeEdits, describeFact, renderBrokenChain } from '../../src/app/index.js';

/** A solver explanation as one text: the chain, then the conclusion. */
export function explanationText(ex: Explanation): string {
  return renderExplanation(ex).join(';\n');
}

/** A plan conflict's explanation as one text. */
export function planExplanationText(ex: PlanExplanation): string {
  return renderPlanExplanation(ex).join('\n');
}
