package store

import "context"

// MemoryClaims is the contract's probe into a memory store: it reads the
// claims map directly, so Memory itself carries no accessor only tests use.
type MemoryClaims struct{ M *Memory }

// ClaimOwner implements storetest.Probe.
func (c MemoryClaims) ClaimOwner(_ context.Context, phoneHMAC string) (string, bool, error) {
	c.M.mu.Lock()
	defer c.M.mu.Unlock()
	cl, ok := c.M.claims[phoneHMAC]
	return cl.account, ok, nil
}
