package store

import (
	"time"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// The item shapes, with plain attribute names so that an operator reading
// the table in the console understands them. No item holds a plain number
// or code.

type profileItem struct {
	PK             string `dynamodbav:"pk"`
	SK             string `dynamodbav:"sk"`
	Type           string `dynamodbav:"type"`
	AccountID      string `dynamodbav:"account_id"`
	PhoneHMAC      string `dynamodbav:"phone_hmac,omitempty"`
	PhoneKeyID     string `dynamodbav:"phone_key_id,omitempty"`
	PhoneCipher    string `dynamodbav:"phone_ciphertext,omitempty"`
	PhoneMasked    string `dynamodbav:"phone_masked,omitempty"`
	VerifiedAt     string `dynamodbav:"verified_at,omitempty"`
	BoundAt        string `dynamodbav:"bound_at,omitempty"`
	ConsentVersion string `dynamodbav:"consent_version,omitempty"`
	ConsentGivenAt string `dynamodbav:"consent_given_at,omitempty"`
	Version        int64  `dynamodbav:"version"`
	UpdatedAt      string `dynamodbav:"updated_at"`
	// UnbindAt is when a removal by e-mail code takes effect; readers
	// treat the profile as unbound from then on (binding.Profile.Lapsed).
	UnbindAt string `dynamodbav:"unbind_at,omitempty"`
	UnbindID string `dynamodbav:"unbind_id,omitempty"`
	// The verified e-mail address, sealed like the number
	// (binding.SealedEmail): removals nobody signed in for are told to it.
	EmailHMAC   string `dynamodbav:"email_hmac,omitempty"`
	EmailKeyID  string `dynamodbav:"email_key_id,omitempty"`
	EmailCipher string `dynamodbav:"email_ciphertext,omitempty"`
	EmailMasked string `dynamodbav:"email_masked,omitempty"`
}

func newProfileItem(p binding.Profile, now time.Time) profileItem {
	return profileItem{
		PK:             accountPK(p.AccountID),
		SK:             skProfile,
		Type:           typeProfile,
		AccountID:      p.AccountID,
		PhoneHMAC:      p.Phone.HMAC,
		PhoneKeyID:     p.Phone.KeyID,
		PhoneCipher:    p.Phone.Ciphertext,
		PhoneMasked:    p.Phone.Masked,
		VerifiedAt:     formatTime(p.VerifiedAt),
		BoundAt:        formatTime(p.BoundAt),
		ConsentVersion: p.Consent.Version,
		ConsentGivenAt: formatTime(p.Consent.GivenAt),
		Version:        p.Version,
		UpdatedAt:      formatTime(now),
		UnbindAt:       formatTime(p.UnbindAt),
		UnbindID:       p.UnbindID,
		EmailHMAC:      p.Email.HMAC,
		EmailKeyID:     p.Email.KeyID,
		EmailCipher:    p.Email.Ciphertext,
		EmailMasked:    p.Email.Masked,
	}
}

func (it profileItem) profile() binding.Profile {
	return binding.Profile{
		AccountID:  it.AccountID,
		Phone:      binding.SealedPhone{HMAC: it.PhoneHMAC, KeyID: it.PhoneKeyID, Ciphertext: it.PhoneCipher, Masked: it.PhoneMasked},
		VerifiedAt: parseTime(it.VerifiedAt),
		BoundAt:    parseTime(it.BoundAt),
		Consent:    binding.Consent{Version: it.ConsentVersion, GivenAt: parseTime(it.ConsentGivenAt)},
		Version:    it.Version,
		UnbindAt:   parseTime(it.UnbindAt),
		UnbindID:   it.UnbindID,
		Email:      binding.SealedEmail{HMAC: it.EmailHMAC, KeyID: it.EmailKeyID, Ciphertext: it.EmailCipher, Masked: it.EmailMasked},
	}
}

type verificationItem struct {
	PK             string `dynamodbav:"pk"`
	SK             string `dynamodbav:"sk"`
	Type           string `dynamodbav:"type"`
	VerificationID string `dynamodbav:"verification_id"`
	AccountID      string `dynamodbav:"account_id"`
	Purpose        string `dynamodbav:"purpose"`
	Channel        string `dynamodbav:"channel"`
	DestHMAC       string `dynamodbav:"destination_hmac,omitempty"`
	DestKeyID      string `dynamodbav:"destination_key_id,omitempty"`
	DestCipher     string `dynamodbav:"destination_ciphertext,omitempty"`
	DestMasked     string `dynamodbav:"destination_masked,omitempty"`
	CodeHMAC       string `dynamodbav:"code_hmac,omitempty"`
	CreatedAt      string `dynamodbav:"created_at"`
	ExpiresAt      string `dynamodbav:"expires_at"`
	ResendAfter    string `dynamodbav:"resend_after"`
	Attempts       int    `dynamodbav:"attempts"`
	MaxAttempts    int    `dynamodbav:"max_attempts"`
	State          string `dynamodbav:"state"`
	Reason         string `dynamodbav:"reason,omitempty"`
	ProfileVersion int64  `dynamodbav:"profile_version"`
	PrevHMAC       string `dynamodbav:"previous_hmac,omitempty"`
	PrevKeyID      string `dynamodbav:"previous_key_id,omitempty"`
	PrevCipher     string `dynamodbav:"previous_ciphertext,omitempty"`
	PrevMasked     string `dynamodbav:"previous_masked,omitempty"`
	ConsentVersion string `dynamodbav:"consent_version,omitempty"`
	SentTo         string `dynamodbav:"sent_to_masked,omitempty"`
	Sequence       int    `dynamodbav:"sequence,omitempty"`
	CompletedAt    string `dynamodbav:"completed_at,omitempty"`
	TTL            int64  `dynamodbav:"ttl"`
}

// verificationRetention keeps a finished request visible in status for a
// day after its code expired; TTL then removes it (lazily: expiry itself
// is always checked in code).
const verificationRetention = 24 * time.Hour

func newVerificationItem(v binding.Verification) verificationItem {
	return verificationItem{
		PK:             accountPK(v.AccountID),
		SK:             skVerification,
		Type:           typeVerification,
		VerificationID: v.ID,
		AccountID:      v.AccountID,
		Purpose:        string(v.Purpose),
		Channel:        string(v.Channel),
		DestHMAC:       v.Destination.HMAC,
		DestKeyID:      v.Destination.KeyID,
		DestCipher:     v.Destination.Ciphertext,
		DestMasked:     v.Destination.Masked,
		CodeHMAC:       v.CodeHMAC,
		CreatedAt:      formatTime(v.CreatedAt),
		ExpiresAt:      formatTime(v.ExpiresAt),
		ResendAfter:    formatTime(v.ResendAfter),
		Attempts:       v.Attempts,
		MaxAttempts:    v.MaxAttempts,
		State:          string(v.State),
		Reason:         v.Reason,
		ProfileVersion: v.ProfileVersion,
		PrevHMAC:       v.Previous.HMAC,
		PrevKeyID:      v.Previous.KeyID,
		PrevCipher:     v.Previous.Ciphertext,
		PrevMasked:     v.Previous.Masked,
		ConsentVersion: v.ConsentVersion,
		SentTo:         v.SentTo,
		Sequence:       v.Sequence,
		TTL:            v.ExpiresAt.Add(verificationRetention).Unix(),
	}
}

func (it verificationItem) verification() binding.Verification {
	return binding.Verification{
		ID:             it.VerificationID,
		AccountID:      it.AccountID,
		Purpose:        binding.Purpose(it.Purpose),
		Channel:        binding.Channel(it.Channel),
		Destination:    binding.SealedPhone{HMAC: it.DestHMAC, KeyID: it.DestKeyID, Ciphertext: it.DestCipher, Masked: it.DestMasked},
		CodeHMAC:       it.CodeHMAC,
		CreatedAt:      parseTime(it.CreatedAt),
		ExpiresAt:      parseTime(it.ExpiresAt),
		ResendAfter:    parseTime(it.ResendAfter),
		Attempts:       it.Attempts,
		MaxAttempts:    it.MaxAttempts,
		State:          binding.RequestState(it.State),
		Reason:         it.Reason,
		ProfileVersion: it.ProfileVersion,
		Previous:       binding.SealedPhone{HMAC: it.PrevHMAC, KeyID: it.PrevKeyID, Ciphertext: it.PrevCipher, Masked: it.PrevMasked},
		ConsentVersion: it.ConsentVersion,
		SentTo:         it.SentTo,
		Sequence:       it.Sequence,
	}
}

type historyItem struct {
	PK       string `dynamodbav:"pk"`
	SK       string `dynamodbav:"sk"`
	Type     string `dynamodbav:"type"`
	ID       string `dynamodbav:"history_id"`
	At       string `dynamodbav:"at"`
	Event    string `dynamodbav:"event"`
	Phone    string `dynamodbav:"phone_masked,omitempty"`
	Actor    string `dynamodbav:"actor"`
	Channel  string `dynamodbav:"channel,omitempty"`
	SourceIP string `dynamodbav:"source_ip,omitempty"`
	TicketID string `dynamodbav:"ticket_id,omitempty"`
	Reason   string `dynamodbav:"reason,omitempty"`
	// Fields are the settings a settings_changed entry set.
	Fields []string `dynamodbav:"fields,omitempty"`
	// ClientID is the partner an access decision was about.
	ClientID string `dynamodbav:"client_id,omitempty"`
	TTL      int64  `dynamodbav:"ttl,omitempty"`
}

func newHistoryItem(accountID string, h binding.HistoryEntry) historyItem {
	it := historyItem{
		PK:       accountPK(accountID),
		SK:       historySK(h.At, h.ID),
		Type:     typeHistory,
		ID:       h.ID,
		At:       formatTime(h.At),
		Event:    h.Event,
		Phone:    h.Phone,
		Actor:    h.Actor,
		Channel:  string(h.Channel),
		SourceIP: h.SourceIP,
		TicketID: h.TicketID,
		Reason:   h.Reason,
		Fields:   h.Fields,
		ClientID: h.ClientID,
	}
	if !h.ExpiresAt.IsZero() {
		it.TTL = h.ExpiresAt.Unix()
	}
	return it
}

func (it historyItem) entry() binding.HistoryEntry {
	return binding.HistoryEntry{
		ID:        it.ID,
		At:        parseTime(it.At),
		Event:     it.Event,
		Phone:     it.Phone,
		Actor:     it.Actor,
		Channel:   binding.Channel(it.Channel),
		SourceIP:  it.SourceIP,
		TicketID:  it.TicketID,
		Reason:    it.Reason,
		Fields:    it.Fields,
		ClientID:  it.ClientID,
		ExpiresAt: ttlTime(it.TTL),
	}
}

type claimItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	Type      string `dynamodbav:"type"`
	AccountID string `dynamodbav:"account_id"`
	ClaimedAt string `dynamodbav:"claimed_at"`
	// UnbindAt copies the holder's scheduled removal: from then on the
	// number is free to claim (CompleteBind's condition).
	UnbindAt string `dynamodbav:"unbind_at,omitempty"`
}
