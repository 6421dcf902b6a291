// Package testenv is the one home of what tests share: a settable clock,
// emulator endpoints and the rule for a missing emulator, and moto readers,
// so that no test package keeps its own copy. Production code never
// imports it; the tools that drive a local stack (make bench) do, for the
// moto readers.
package testenv

import (
	"sync"
	"time"
)

// Clock is a clock a test moves by hand, past TTLs and cooldowns, without
// sleeping. Safe for concurrent use; its Now is what the service takes as
// its clock.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock starts a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set moves the clock to t, forward or back (a test standing at one
// instant, then at another).
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}
