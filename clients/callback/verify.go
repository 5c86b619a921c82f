// Package callback verifies wxposter's signed batch callbacks on the
// receiving side. It has no dependencies beyond the standard library: copy
// it into your service, or import it.
package callback

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Header is the request header that carries the signature.
const Header = "X-Wxposter-Signature"

// DefaultTolerance is how far the signature's timestamp may be from now.
const DefaultTolerance = 5 * time.Minute

var (
	ErrMalformed = errors.New("callback: malformed signature header")
	ErrSignature = errors.New("callback: signature does not match")
	ErrExpired   = errors.New("callback: timestamp outside the tolerance")
)

// Verify checks header ("t=<unix seconds>,v1=<hex HMAC-SHA256>") against the
// raw request body, exactly as received (not re-encoded JSON), and secret
// (WXPOSTER_CALLBACK_SECRET). The comparison is constant-time; a timestamp
// further than tolerance from now is refused, so a captured request cannot
// be replayed later.
func Verify(secret, body []byte, header string, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs [][]byte
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			if sig, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, sig)
			}
		}
	}
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrMalformed
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	ok := false
	for _, sig := range sigs {
		ok = hmac.Equal(sig, want) || ok
	}
	if !ok {
		return ErrSignature
	}
	if d := now.Sub(time.Unix(t, 0)); d > tolerance || d < -tolerance {
		return ErrExpired
	}
	return nil
}
