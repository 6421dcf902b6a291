// Package phone turns what people type into canonical E.164 mobile numbers,
// validates them against libphonenumber metadata and masks them for display.
package phone

// Number is a validated mobile number in canonical E.164 form.
type Number struct {
	e164   string
	region string
}

// E164 is the canonical form, e.g. +79123456789. It must never be logged.
func (n Number) E164() string { return n.e164 }

// Region is the ISO 3166 region the number belongs to, e.g. RU.
func (n Number) Region() string { return n.region }

// Masked is the form safe to show and store, e.g. +7 912 ***-**-89.
func (n Number) Masked() string { return Mask(n.e164) }

// IsZero reports whether n holds no number.
func (n Number) IsZero() bool { return n.e164 == "" }

// Reason says why a number was refused, in the order SPEC §2 checks them.
type Reason string

// Reasons for refusing a number.
const (
	ReasonEmpty             Reason = "empty"
	ReasonInvalidCharacters Reason = "invalid_characters"
	ReasonInvalidLength     Reason = "invalid_length"
	ReasonInvalidNumber     Reason = "invalid_number"
	ReasonRegionNotAllowed  Reason = "region_not_allowed"
	ReasonNotMobile         Reason = "not_mobile"
)

// InvalidError refuses a number for Reason.
type InvalidError struct{ Reason Reason }

// Error names only the reason: the number itself must never reach a log.
func (e *InvalidError) Error() string { return "invalid phone: " + string(e.Reason) }
