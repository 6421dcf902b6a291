package core

import "github.com/gosuslugi/phonebind/shared/ops"

// PhoneRead is PhoneReadFunction's Lambda handler: the read_phone event a
// portal service invokes it with (SPEC §4.8), and nothing else. It has no
// HTTP route and takes no ops action: a consumer's role may invoke it
// (PhoneReadInvokePolicy), and that must reach the number's read alone.
func (a *App) PhoneRead() ops.Handler {
	return ops.PhoneRead(a.Service, a.Metrics, a.Logger)
}
