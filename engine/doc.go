// Package engine is what SEAL does with a model: self-edit generation, LoRA updates,
// evaluation, rewards and ReST-EM, reported as typed events. It knows nothing of terminals.
package engine
