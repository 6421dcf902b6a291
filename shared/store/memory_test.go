package store_test

import (
	"testing"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/store"
	"github.com/gosuslugi/phonebind/shared/store/storetest"
)

func TestMemoryContract(t *testing.T) {
	storetest.Run(t, func(*testing.T) (binding.Store, storetest.Probe) {
		m := store.NewMemory()
		return m, store.MemoryClaims{M: m}
	})
}
