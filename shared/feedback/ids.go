package feedback

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// Ticket ids are "FB-" and idLength characters from idAlphabet: digits and
// capital letters without 0/O and 1/I/L, so an id read out over the phone
// or copied by hand cannot be mistaken. 31^8 ≈ 8.5·10^11 ids, drawn from
// crypto/rand: not guessable, and an id is unique because the store
// reserves it with a conditional write.
const (
	idPrefix   = "FB-"
	idAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
	idLength   = 8
)

// NewTicketID draws a fresh ticket id.
func NewTicketID() (string, error) {
	var b strings.Builder
	b.WriteString(idPrefix)
	n := big.NewInt(int64(len(idAlphabet)))
	for range idLength {
		i, err := rand.Int(rand.Reader, n)
		if err != nil {
			return "", fmt.Errorf("random ticket id: %w", err)
		}
		b.WriteByte(idAlphabet[i.Int64()])
	}
	return b.String(), nil
}

// NormalizeTicketID reads an id as a person may type it (any case, spaces
// around it) and reports whether it has the shape of a ticket id at all.
func NormalizeTicketID(raw string) (string, bool) {
	id := strings.ToUpper(strings.TrimSpace(raw))
	code, ok := strings.CutPrefix(id, idPrefix)
	if !ok || len(code) != idLength {
		return "", false
	}
	for i := 0; i < len(code); i++ {
		if strings.IndexByte(idAlphabet, code[i]) < 0 {
			return "", false
		}
	}
	return id, true
}

// cursorLayout is RFC 3339 UTC with fixed milliseconds, as the store keeps
// ticket times.
const cursorLayout = "2006-01-02T15:04:05.000Z"

// EncodeCursor turns a Position into the opaque cursor clients pass back
// for the next page. It names nothing but the caller's own ticket: the
// store only ever reads the caller's list, so a forged cursor can only move
// within it.
func EncodeCursor(p Position) string {
	return base64.RawURLEncoding.EncodeToString([]byte(p.CreatedAt.UTC().Format(cursorLayout) + "|" + p.ID))
}

// DecodeCursor reads what EncodeCursor wrote; anything else is
// ErrInvalidCursor.
func DecodeCursor(cursor string) (Position, error) {
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return Position{}, ErrInvalidCursor
	}
	at, id, ok := strings.Cut(string(raw), "|")
	if !ok {
		return Position{}, ErrInvalidCursor
	}
	t, err := time.Parse(cursorLayout, at)
	if err != nil {
		return Position{}, ErrInvalidCursor
	}
	if _, ok := NormalizeTicketID(id); !ok {
		return Position{}, ErrInvalidCursor
	}
	return Position{CreatedAt: t.UTC(), ID: id}, nil
}
