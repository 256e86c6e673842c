// Words in time and the outcome of an edit (ui/words.js): run with `node --test tests/js/`.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { editOutcome, isUnsure, UNSURE_BELOW, wordAt, wordRuns } from "../../ui/words.js";

const word = (text, start, end, probability = 0.9) => ({ word: text, start, end, probability });

describe("wordRuns", () => {
  test("cuts the text into its words and what lies between them, reading as it was", () => {
    const words = [word("Hello,", 0, 0.4), word("world.", 0.4, 0.9)];
    const runs = wordRuns("Hello, world.", words);
    assert.deepEqual(runs, [
      { text: "Hello,", word: 0 },
      { text: " ", word: -1 },
      { text: "world.", word: 1 },
    ]);
    assert.equal(runs.map((r) => r.text).join(""), "Hello, world.");
  });

  test("finds each word after the last, so a repeated word is placed twice", () => {
    const runs = wordRuns("no no no", [word("no", 0, 1), word("no", 1, 2), word("no", 2, 3)]);
    assert.deepEqual(runs.filter((r) => r.word >= 0).map((r) => r.word), [0, 1, 2]);
  });

  test("leaves out a word that is not in the text, and keeps text without words whole", () => {
    assert.deepEqual(wordRuns("stop go", [word("halt", 0, 1), word("go", 1, 2)]), [
      { text: "stop ", word: -1 },
      { text: "go", word: 1 },
    ]);
    assert.deepEqual(wordRuns("你好", []), [{ text: "你好", word: -1 }]);
  });
});

describe("wordAt", () => {
  const words = [word("a", 0.5, 1.0), word("b", 1.0, 1.4), word("c", 2.0, 2.5)];

  test("is the word being spoken", () => {
    assert.equal(wordAt(words, 0.5), 0);
    assert.equal(wordAt(words, 1.0), 1);
    assert.equal(wordAt(words, 2.49), 2);
  });

  test("is none before, between and after the words", () => {
    assert.equal(wordAt(words, 0.1), -1);
    assert.equal(wordAt(words, 1.7), -1);
    assert.equal(wordAt(words, 3), -1);
    assert.equal(wordAt([], 1), -1);
  });
});

test("a word is unsure below the threshold, never in a segment a person corrected", () => {
  assert.equal(isUnsure(word("x", 0, 1, UNSURE_BELOW - 0.01)), true);
  assert.equal(isUnsure(word("x", 0, 1, UNSURE_BELOW)), false);
  assert.equal(isUnsure(word("x", 0, 1, 0.1), true), false);
  assert.equal(isUnsure({ word: "x", start: 0, end: 1 }), false);
});

test("an edit saves new text with its spaces made one, and cancels when nothing changed or nothing is left", () => {
  assert.deepEqual(editOutcome("three seven", "  three\n eleven "), { save: "three eleven" });
  assert.deepEqual(editOutcome("three seven", "three  seven "), { cancel: true });
  assert.deepEqual(editOutcome("three seven", "   "), { cancel: true });
});
