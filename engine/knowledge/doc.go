// Package knowledge is the knowledge-incorporation domain of SEAL (docs/seal-method.md §1): SQuAD
// passages, the self-edit prompts, the rules that turn a self-edit into training sequences,
// the closed-book QA prompt, answer grading (offline containment, a model judge, or an
// OpenAI-compatible HTTP judge) and the reward arithmetic.
//
// It is pure logic: no model code. The engine supplies generation through Complete and does
// the training; this package only says what text goes in and how answers are scored.
//
// A section mark without a file name in this package's comments (§1.7, §1.11) is a
// section of docs/seal-method.md.
package knowledge
