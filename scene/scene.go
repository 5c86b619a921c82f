// Package scene carries page parameters in the scene of a mini-program code.
//
// WeChat gives a code's scene at most 32 characters of
// 0-9A-Za-z!#$&'()*+,/:;=?@-._~, and the page receives it in
// onLoad(options).scene. Parameters travel in one of two forms:
//
//   - inline, "k:v;k:v" with keys sorted, when every key and value is made
//     of allowed characters other than ':', ';' and '~' and the whole fits
//     in 32 characters: the page parses it without a network call;
//   - stored, RefPrefix followed by an id derived from the parameters, when
//     they do not fit: the parameters live in Redis (see Store) and the page
//     fetches them from GET /v1/scenes/{scene}.
//
// '~' marks a reference because inline keys may not contain it, so no
// inline scene can start with it.
package scene

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// MaxLen is the longest scene WeChat accepts.
const MaxLen = 32

// RefPrefix starts a scene that refers to stored parameters. It is one of
// the characters WeChat allows and one Encode never writes, so a scene's
// first character tells the two forms apart.
const RefPrefix = "~"

var (
	// ErrNotFound is a reference to parameters that were never stored.
	ErrNotFound = errors.New("scene: not found")
	// ErrNotParams is a scene that carries no parameters in either form:
	// a plain "42" set by hand, or not a valid scene at all.
	ErrNotParams = errors.New("scene: not a parameter scene")
)

// allowed[c] is true for the characters WeChat accepts in a scene.
var allowed = func() (t [256]bool) {
	for _, c := range []byte("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$&'()*+,/:;=?@-._~") {
		t[c] = true
	}
	return t
}()

// Valid reports whether s is a scene WeChat accepts: 1 to 32 allowed
// characters.
func Valid(s string) bool {
	if s == "" || len(s) > MaxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !allowed[s[i]] {
			return false
		}
	}
	return true
}

// inlineOK reports whether s can be a key or value of the inline form: not
// empty, allowed characters only, none of the separators or the prefix.
func inlineOK(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !allowed[c] || c == ':' || c == ';' || c == RefPrefix[0] {
			return false
		}
	}
	return true
}

// Encode renders params as "k:v;k:v" with keys sorted, the form the seed
// article's page code parses. ok is false when params is empty, a key or
// value is empty or has a character outside the inline set, or the result
// is longer than MaxLen; those parameters must be stored (Store.Scene).
func Encode(params map[string]string) (scene string, ok bool) {
	if len(params) == 0 {
		return "", false
	}
	keys := make([]string, 0, len(params))
	n := len(params) - 1 // separators
	for k, v := range params {
		if !inlineOK(k) || !inlineOK(v) {
			return "", false
		}
		n += len(k) + 1 + len(v)
		if n > MaxLen {
			return "", false
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.Grow(n)
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(k)
		b.WriteByte(':')
		b.WriteString(params[k])
	}
	return b.String(), true
}

// Decode parses an inline scene back into its parameters. Keys need not be
// sorted (a client may have built the scene by hand), but every pair must
// be "k:v" with a non-empty key and value and no key may repeat. A stored
// reference, or any other scene, is an error wrapping ErrNotParams.
func Decode(scene string) (map[string]string, error) {
	if !Valid(scene) {
		return nil, fmt.Errorf("%w: not a valid scene (1-%d characters of 0-9A-Za-z!#$&'()*+,/:;=?@-._~)", ErrNotParams, MaxLen)
	}
	if IsRef(scene) {
		return nil, fmt.Errorf("%w: %q is a stored reference; resolve it with Store.Resolve", ErrNotParams, scene)
	}
	params := make(map[string]string)
	for pair := range strings.SplitSeq(scene, ";") {
		k, v, found := strings.Cut(pair, ":")
		if !found || !inlineOK(k) || !inlineOK(v) {
			return nil, fmt.Errorf("%w: %q is not in k:v;k:v form", ErrNotParams, scene)
		}
		if _, dup := params[k]; dup {
			return nil, fmt.Errorf("%w: %q repeats key %q", ErrNotParams, scene, k)
		}
		params[k] = v
	}
	return params, nil
}

// IsRef reports whether scene is a reference to stored parameters.
func IsRef(scene string) bool { return strings.HasPrefix(scene, RefPrefix) }
