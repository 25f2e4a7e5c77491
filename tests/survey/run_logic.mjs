// Runs the browser's form rules (survey_platform/pages/static/js/survey/logic.js) over the answer sets of a JSON file
// written by test_logic_agreement.py and prints the verdicts as JSON, one per case, for the test to compare with
// the server's validate_answers.
import { readFileSync } from 'node:fs';

import { assess, makeForm } from '../../survey_platform/pages/static/js/survey/logic.js';

const payload = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const out = payload.questionnaires.map((entry) => {
  const forms = { false: makeForm(entry.questionnaire, { selfCompleted: false }), true: makeForm(entry.questionnaire, { selfCompleted: true }) };
  return entry.cases.map((item) => {
    const verdict = assess(forms[item.self_completed], item.answers);
    return {
      errors: verdict.errors.map((error) => [error.path, error.code]),
      eligible: verdict.eligible,
      values: verdict.values,
      dropped: verdict.dropped,
    };
  });
});
process.stdout.write(JSON.stringify(out));
