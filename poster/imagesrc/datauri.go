package imagesrc

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
)

// isDataURI reports whether s is a data: URI (case-insensitive scheme).
func isDataURI(s string) bool {
	return len(s) >= 5 && strings.EqualFold(s[:5], "data:")
}

// parseDataURI returns the bytes of an image data URI,
// data:image/<type>[;params];base64,<payload>, refusing payloads over max
// bytes before decoding them. The declared type is not trusted: Decode
// sniffs the bytes. Errors never quote the payload.
func parseDataURI(s string, max int) ([]byte, error) {
	header, payload, ok := strings.Cut(s[len("data:"):], ",")
	if !ok {
		return nil, fmt.Errorf("%w: data URI without a comma", ErrFetchRefused)
	}
	params := strings.Split(header, ";")
	if !strings.HasPrefix(strings.ToLower(params[0]), "image/") {
		return nil, fmt.Errorf("%w: data URI of type %.40q is not an image", ErrFetchRefused, params[0])
	}
	if len(params) < 2 || !strings.EqualFold(params[len(params)-1], "base64") {
		return nil, fmt.Errorf("%w: data URI is not base64", ErrFetchRefused)
	}
	if strings.ContainsRune(payload, '%') {
		p, err := url.PathUnescape(payload)
		if err != nil {
			return nil, fmt.Errorf("%w: data URI has bad percent-encoding", ErrFetchRefused)
		}
		payload = p
	}
	if base64.StdEncoding.DecodedLen(len(payload)) > max+3 { // before decoding
		return nil, fmt.Errorf("%w: data URI of about %d bytes exceeds the limit of %d bytes",
			ErrFetchRefused, base64.StdEncoding.DecodedLen(len(payload)), max)
	}
	payload = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, payload)
	var data []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if data, err = enc.DecodeString(payload); err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: data URI has bad base64", ErrFetchRefused)
	}
	if len(data) > max {
		return nil, fmt.Errorf("%w: data URI of %d bytes exceeds the limit of %d bytes", ErrFetchRefused, len(data), max)
	}
	return data, nil
}
