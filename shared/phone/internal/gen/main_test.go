package main

import (
	"bytes"
	"os"
	"testing"
)

// TestTableUpToDate regenerates the table from the nyaruka/phonenumbers
// version go.mod requires and compares it byte for byte with the committed
// file, so an upgrade cannot leave the phone package on stale metadata.
func TestTableUpToDate(t *testing.T) {
	got, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../metadata_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("shared/phone/metadata_gen.go is stale: run go generate ./shared/phone")
	}
}

// TestGenerateIsDeterministic: map iteration inside nyaruka must not
// leak into the output, or the test above would flake.
func TestGenerateIsDeterministic(t *testing.T) {
	first, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		again, err := generate()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, again) {
			t.Fatal("two runs of generate differ")
		}
	}
}
