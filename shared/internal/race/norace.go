//go:build !race

// Package race tells tests whether the race detector is on: it makes
// sync.Pool drop what it is given at random, so allocation counts of code
// that reuses pooled buffers only hold without it.
package race

// Enabled is true in a build with -race.
const Enabled = false
