// Package arc is the few-shot ARC domain of SEAL (docs/seal-method.md §2): ARC tasks, their
// text formats, the self-edit (an augmentation and hyperparameter config the policy
// writes), test-time training on a task's demonstrations, voted prediction and the
// pass@2 reward, and the baselines. It knows nothing of the store or the UI; the
// engine's runner drives it and records what it returns.
//
// # For the runner (ReST-EM over ARC tasks)
//
// Tasks:
//
//	tasks, err := arc.Load(challengesPath, solutionsPath) // Kaggle JSON, file order
//	train, eval := procedural.Sets(seed, nTrain, nEval)    // or seeded synthetic tasks
//	rl := procedural.RLTasks(seed, n, eval, corpus...)     // RL tasks sharing no pair with those
//
// One candidate, as the knowledge domain's loop does it:
//
//	p, _ := arc.PrompterFor(modelDir)          // chat template, or plain text (embedded model)
//	prompt, _ := p.SelfEditPrompt(task)        // the policy continues it (§2.3: T 0.8, 128 tokens)
//	cfg, err := arc.ParseEdit(text)            // *arc.EditError; Unparseable: re-sample
//	res, err := arc.TestTimeTrain(ctx, m, tok, task, cfg, arc.Options{Prompter: p, Vote: true, Seed: s, OnStep: ...})
//	// err: infrastructure or cancellation. res.Reason != "": invalid edit, reward 0.
//	// res.Reward (1 when every test is right with pass@2), res.Attempts, res.Answers, res.Curve.
//
// TestTimeTrain trains a fresh LoRA (r 128, α 16 on q, v, gate, up, down by default)
// with llama.FitLoRA, the loop the knowledge domain uses too, on the leave-one-out and
// leave-two-out tasks built from the demonstrations (TrainingTasks), predicts greedily,
// votes over the inverse-transformed answers (VotingQueries, Vote) and detaches the
// adapter, so the model is left as it was found, on error and cancellation too. The
// same Options.Seed for every candidate of a task gives them one shared A
// initialisation, as the reference does. The ReST-EM M-step trains on the successes'
// (self-edit prompt, edit text + EOS) pairs with the loss on the edit and EOS, which is
// how the engine already builds the knowledge domain's SFT examples (§2.8).
//
// Baselines: InContext (no training), TestTimeTrain with FixedConfig (the hand-chosen
// recipe), and Oracle (the best of SearchSpace, judged on the real tests).
//
// # Formats
//
// Format prints grids as NumPy does; Prompter renders the TTT/inference format (§2.2b)
// and the self-edit prompt (§2.2a) through a model's chat template, or as plain text
// when it has none; ParseAnswer reads an answer back. The sentences of both prompts are
// our own, written from the method's description; their structure is the reference's.
//
// # Deliberate differences from the reference
//
//   - Padding is never in the loss (the reference trains on its <|eot_id|> pads).
//   - An invalid edit is neither trained nor evaluated: it scores 0 directly (the
//     reference trains it for 0 epochs and evaluates a model that is the base).
//   - Besides the 375-step budget, an edit's learning rate and epochs must lie within
//     Limits (default (0, 0.01] and [1, 10]).
//   - The self-edit prompt goes through the chat template, so there is one BOS, not
//     the reference's two (§5 #10).
//   - Python's set order made the reference's training sample irreproducible; here it
//     is deterministic from the seed.
//
// Palette gives the ten ARC colours for a UI to draw grids with.
//
// A section mark without a file name in this package's comments (§2.2b, §4 #11, §5 #10)
// is a section of docs/seal-method.md.
package arc
