// Package arc is the few-shot ARC domain of SEAL (seal-method.md §2).
package arc
