// The step-up the personal-data report asks (SPEC §4.9), checked where
// every other step-up is.

package binding

// DemandStepUp checks a session before it may read everything held about
// its account, the full number included (shared/privacy): the step-up a
// settings change asks, a second factor signed in within STEP_UP_MAX_AGE.
// It fails with *StepUpError.
func (s *Service) DemandStepUp(sess Session) error {
	return s.demand(sess, true, s.now().UTC())
}
