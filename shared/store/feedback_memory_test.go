package store_test

import (
	"testing"

	"github.com/gosuslugi/phonebind/shared/feedback"
	"github.com/gosuslugi/phonebind/shared/store"
	"github.com/gosuslugi/phonebind/shared/store/storetest"
)

func TestFeedbackMemoryContract(t *testing.T) {
	storetest.RunFeedback(t, func(*testing.T) feedback.Store { return store.NewFeedbackMemory() })
}
