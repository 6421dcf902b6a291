package store

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/idempotency"
)

// Every key of the single table is built here. An account's partition holds
// its profile, its one verification and its history; sort keys are chosen
// so that one descending Query returns VERIFICATION, SETTINGS, PROFILE and
// then the newest history entries, in that order.
const (
	attrPK = "pk"
	attrSK = "sk"

	skProfile      = "PROFILE"
	skVerification = "VERIFICATION"
	skHistoryFrom  = "HISTORY#"
	skClaim        = "CLAIM"
	// skSettings sorts between PROFILE and VERIFICATION, so the snapshot's
	// one Query reads the settings too.
	skSettings = "SETTINGS"
	// skHeldFrom starts the sort key of a held removal's HELD item, its
	// outbox (HELD#<unbind id>): it sorts before HISTORY#, outside the
	// snapshot's Query, so no read of the account pays for it.
	skHeldFrom = "HELD#"
	// The reads of the number (SPEC §4.8): the access log,
	// ACCESSLOG#<at>#<entry id>, and one access request per partner,
	// ACCESSREQ#<client id>. Both sort before HISTORY#, so the snapshot's
	// Query (HISTORY# to VERIFICATION) never reads them, and both live in
	// the account's partition, so an erasure of ACCOUNT#<id> takes them.
	skAccessLogFrom = "ACCESSLOG#"
	skAccessReqFrom = "ACCESSREQ#"
)

// Partition-key prefixes: every pk the store writes starts with one of
// these. template.yaml grants each function its table actions only on the
// prefixes it owns (dynamodb:LeadingKeys), and
// infra/contract/leadingkeys_test.go checks those grants against
// PartitionPrefixes, so a new prefix goes here and into that review.
const (
	prefixAccount     = "ACCOUNT#"
	prefixClaim       = "PHONE#"
	prefixLimit       = "LIMIT#"
	prefixPhoneLimits = prefixLimit + "phone#"
	prefixTickets     = "TICKETS#"
	prefixTicketRef   = "TICKET#"
	prefixIdempotency = "IDEMPOTENCY#"
)

// PartitionPrefixes names every partition-key prefix the store writes, for
// the IAM review in infra/contract. The LIMIT# counters of one limit share
// LIMIT#<limit name>#, which CounterPrefix gives.
var PartitionPrefixes = map[string]string{
	"account":     prefixAccount,
	"claim":       prefixClaim,
	"limit":       prefixLimit,
	"phoneLimits": prefixPhoneLimits,
	"tickets":     prefixTickets,
	"ticketRef":   prefixTicketRef,
	"idempotency": prefixIdempotency,
}

// CounterPrefix is the partition-key prefix of the counter items of the
// limit called name (binding.Limit*, feedback.LimitDaily), which
// template.yaml's LeadingKeys grants name.
func CounterPrefix(name string) string { return prefixLimit + name + "#" }

// absent is the condition of a put that may only create its item (a
// history entry, a ticket, a ticket id's reservation).
const absent = "attribute_not_exists(" + attrPK + ")"

// timeLayout is RFC 3339 in UTC with fixed milliseconds: fixed width, so
// string order is time order, in keys and in condition expressions alike.
const timeLayout = "2006-01-02T15:04:05.000Z"

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

// ttlTime reads an epoch ttl attribute (0: none, the zero time).
func ttlTime(ttl int64) time.Time {
	if ttl <= 0 {
		return time.Time{}
	}
	return time.Unix(ttl, 0).UTC()
}

func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

func accountPK(accountID string) string { return prefixAccount + accountID }

func historySK(at time.Time, id string) string { return skHistoryFrom + formatTime(at) + "#" + id }

func heldSK(unbindID string) string { return skHeldFrom + unbindID }

func accessLogSK(at time.Time, id string) string { return skAccessLogFrom + formatTime(at) + "#" + id }

func accessReqSK(clientID string) string { return skAccessReqFrom + clientID }

func claimPK(phoneHMAC string) string { return prefixClaim + phoneHMAC }

func counterPK(c binding.Counter) string { return CounterPrefix(c.Name) + c.Subject }

func counterSK(c binding.Counter) string { return formatTime(c.WindowStart) }

// The number's own counters (codes and wrong codes of one UTC day) share
// one item: pk LIMIT#phone#<number HMAC>, sk the day.
func phoneCountersPK(phoneHMAC string) string { return prefixPhoneLimits + phoneHMAC }

// Attributes that updates and conditions name (items.go's struct tags spell
// the same names for whole items).
const (
	attrAccountID             = "account_id"
	attrAnswer                = "answer"
	attrApprovedUntil         = "approved_until"
	attrAnsweredAt            = "answered_at"
	attrAnsweredBy            = "answered_by"
	attrAttempts              = "attempts"
	attrCodeHMAC              = "code_hmac"
	attrCompletedAt           = "completed_at"
	attrConsentVersion        = "consent_version"
	attrDestinationCiphertext = "destination_ciphertext"
	attrDestinationHMAC       = "destination_hmac"
	attrDestinationKeyID      = "destination_key_id"
	attrDestinationMasked     = "destination_masked"
	attrExpiresAt             = "expires_at"
	attrFingerprint           = "fingerprint"
	attrLimit                 = "limit"
	attrLockedUntil           = "locked_until"
	attrMaxAttempts           = "max_attempts"
	attrPreviousCiphertext    = "previous_ciphertext"
	attrPreviousHMAC          = "previous_hmac"
	attrPreviousKeyID         = "previous_key_id"
	attrPreviousMasked        = "previous_masked"
	attrPhoneHMAC             = "phone_hmac"
	attrPurpose               = "purpose"
	attrReason                = "reason"
	attrResendAfter           = "resend_after"
	attrResponseBody          = "response_body"
	attrResponseHeaders       = "response_headers"
	attrResponseStatus        = "response_status"
	attrSentToMasked          = "sent_to_masked"
	attrSequence              = "sequence"
	attrState                 = "state"
	attrToken                 = "token"
	attrTTL                   = "ttl"
	attrType                  = "type"
	attrUnbindAt              = "unbind_at"
	attrUnbindID              = "unbind_id"
	attrEmailHMAC             = "email_hmac"
	attrEmailKeyID            = "email_key_id"
	attrEmailCiphertext       = "email_ciphertext"
	attrEmailMasked           = "email_masked"
	attrUpdatedAt             = "updated_at"
	attrUpdatedBy             = "updated_by"
	attrVerificationID        = "verification_id"
	attrVersion               = "version"
	attrWindowEnd             = "window_end"
	attrWindowStart           = "window_start"
)

// Values of the type attribute: what an item is, for a reader of the table
// in the console and for the scans in tests. The idempotency record's type
// is set in idempotency.go.
const (
	typeProfile      = "profile"
	typeVerification = "verification"
	typeHistory      = "history"
	typeClaim        = "claim"
	typeSettings     = "settings"
	typeCounter      = "counter"
	typeTicket       = "ticket"
	typeTicketRef    = "ticket_ref"
)

// Attributes of the settings item (ACCOUNT#<id>, SETTINGS): one per
// setting, written only when set, so a missing one takes its default.
const (
	attrNotifySMS     = "notify_sms"
	attrNotifyEmail   = "notify_email"
	attrNotifyPush    = "notify_push"
	attrAutofill      = "autofill"
	attrThirdParty    = "third_party"
	attrDisplayFormat = "display_format"
)

// Attributes of the counter items.
const (
	attrCount    = "count"
	attrFailures = "failures"
	attrCodes    = "codes"
)

// An account's own counters are attributes of its verification item, one
// per window: codes_<UTC hour> and failures_<UTC day>.
func hourCodesAttr(hour time.Time) string { return "codes_" + hour.UTC().Format("2006010215") }

func dayFailuresAttr(day time.Time) string { return "failures_" + day.UTC().Format("20060102") }

// numbersAttr is the verification item's string set of the HMACs of the
// numbers the account asked codes for on day's UTC date (verificationWrite),
// kept while those numbers' counters are: numbers_<YYYYMMDD>.
func numbersAttr(day time.Time) string { return numbersAttrPrefix + day.UTC().Format("20060102") }

const numbersAttrPrefix = "numbers_"

// Support tickets: the ticket in its author's tickets partition
// TICKETS#<sub>, sk FEEDBACK#<created_at>#<ticket id>, and a ref item
// TICKET#<ticket id> that reserves the id and says whose ticket it is
// (feedback_items.go explains the layout).
const (
	skFeedbackFrom = "FEEDBACK#"
	skTicketRef    = "TICKET"

	// TicketStatusIndex is the global secondary index operators query for
	// tickets in one status, oldest first.
	TicketStatusIndex = "TicketsByStatus"
	attrTicketStatus  = "ticket_status"
	attrCreatedAt     = "created_at"
)

// Attributes of the access log and the access requests.
const (
	attrClientID   = "client_id"
	attrClientName = "client_name"
	attrDecidedAt  = "decided_at"
	attrRequestID  = "request_id"
	attrResult     = "result"
)

func feedbackSK(createdAt time.Time, ticketID string) string {
	return skFeedbackFrom + formatTime(createdAt) + "#" + ticketID
}

func ticketRefPK(ticketID string) string { return prefixTicketRef + ticketID }

// ticketsPK is the partition of an account's tickets: apart from its
// ACCOUNT# partition, so that the feedback function, which may write only
// under TICKETS#, TICKET#, its counter and idempotency keys, can never
// write a profile, a verification or a history entry.
func ticketsPK(accountID string) string { return prefixTickets + accountID }

// Idempotency records live in the same table, one partition per account
// and one item per key: pk IDEMPOTENCY#<account>, sk the key hash, gone by
// TTL. One partition per account lets an erasure find every record of the
// account with a Query (erase.go); the prefix is the one the functions'
// LeadingKeys grants already name. Records written under the earlier
// layout (pk IDEMPOTENCY#<account>#<key hash>, sk IDEMPOTENCY) are no
// longer read and age out by TTL (httpapi.IdempotencyRetention after they were written).
func idempotencyPK(accountID string) string { return prefixIdempotency + accountID }

func idempotencyKey(r idempotency.Record) map[string]types.AttributeValue {
	return key(idempotencyPK(r.AccountID), r.KeyHash)
}
