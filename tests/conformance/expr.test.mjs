// Runs the expression conformance cases against the JavaScript evaluator (node --test).
//
// tests/conformance/test_conformance.py compiles every case with Python, writes the compiled JSON, inputs and
// expectations to a temporary file and runs this file with SURVEY_EXPR_CASES=<that file>. One test per evaluation
// case, plus the cross-checks of the caps and of the regex engine (same programs, same results, same errors).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import {
  DEFAULT_CAPS,
  ExprEvalError,
  RegexSyntaxError,
  compileRegexProgram,
  evaluate,
  regexSearch,
  roundHalfAway,
} from '../../survey_platform/pages/static/js/expr.js';

const path = process.env.SURVEY_EXPR_CASES;

function sameValue(actual, expected) {
  if (expected === null) return actual === null;
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => sameValue(actual[i], e));
  }
  if (typeof expected === 'object') {
    return actual !== null && typeof actual === 'object' && !Array.isArray(actual)
      && Object.keys(expected).length === Object.keys(actual).length
      && Object.keys(expected).every((key) => sameValue(actual[key], expected[key]));
  }
  return actual === expected;
}

if (!path) {
  test('conformance cases', { skip: 'SURVEY_EXPR_CASES is not set: run pytest tests/conformance' }, () => {});
} else {
  const data = JSON.parse(readFileSync(path, 'utf8'));

  for (const item of data.cases) {
    test(item.name, () => {
      const options = { this: item.this ?? null };
      if (item.max_steps !== null && item.max_steps !== undefined) options.maxSteps = item.max_steps;
      if (item.error) {
        assert.throws(() => evaluate(item.compiled, item.answers, options), (error) => {
          assert.ok(error instanceof ExprEvalError, `expected ExprEvalError, got ${error}`);
          assert.equal(error.code, item.error.code, error.message);
          return true;
        });
      } else {
        const result = evaluate(item.compiled, item.answers, options);
        assert.ok(sameValue(result, item.expect), `got ${JSON.stringify(result)}, expected ${JSON.stringify(item.expect)}`);
      }
    });
  }

  test('caps agree with Python', () => {
    assert.deepEqual({ ...DEFAULT_CAPS }, data.caps);
  });

  test('regex programs agree with Python', () => {
    for (const { pattern, program } of data.regex.programs) {
      assert.deepEqual(compileRegexProgram(pattern), program, `pattern ${JSON.stringify(pattern)}`);
    }
  });

  test('regex searches agree with Python', () => {
    for (const { pattern, text, expect } of data.regex.searches) {
      const got = regexSearch(compileRegexProgram(pattern), text);
      assert.equal(got, expect, `pattern ${JSON.stringify(pattern)} on ${JSON.stringify(text)}`);
    }
  });

  test('number formatting and rounding agree with Python', () => {
    for (const { value, string, digits, rounded } of data.numbers) {
      assert.equal(String(value), string, `String(${value})`);
      assert.equal(roundHalfAway(value, digits), rounded, `round(${value}, ${digits})`);
    }
  });

  test('regex syntax errors agree with Python', () => {
    for (const { pattern, offset } of data.regex.errors) {
      assert.throws(() => compileRegexProgram(pattern), (error) => {
        assert.ok(error instanceof RegexSyntaxError, `pattern ${JSON.stringify(pattern)}: ${error}`);
        assert.equal(error.offset, offset, `pattern ${JSON.stringify(pattern)}: ${error.message}`);
        return true;
      });
    }
  });
}
