// Package ui is the Bubble Tea workbench over the engine and the store: launcher, live
// run view, review, history and comparison. It never computes.
package ui
