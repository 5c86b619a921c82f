package scene

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"
)

// FuzzSceneRoundTrip checks, for parameters built from fuzzed strings, that
// Scene either refuses them for a documented limit or gives a valid scene
// (inline exactly when Encode fits) that is stable and that Resolve turns
// back into the same parameters.
func FuzzSceneRoundTrip(f *testing.F) {
	f.Add("id", "42", "from", "u7", "", "", uint8(2))
	f.Add("a", strings.Repeat("x", 30), "", "", "", "", uint8(1))
	f.Add("a", strings.Repeat("x", 31), "", "", "", "", uint8(1))
	f.Add("name", "小明", "id", "7", "t", "12:30", uint8(3))
	f.Add("id", "", "~k", "v", "k;", "a:b", uint8(3))
	f.Add("k", "a\xffb", "", "", "", "", uint8(1))
	f.Add("", "x", "", "", "", "", uint8(1))
	f.Add("q", "<a>&amp;\u2028", "q", "dup", "z", "~", uint8(3))
	f.Add(strings.Repeat("k", 65), "v", "", "", "", "", uint8(1))

	s, _, _ := newTestStore(f)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, k3, v3 string, n uint8) {
		params := map[string]string{}
		pairs := [][2]string{{k1, v1}, {k2, v2}, {k3, v3}}
		for _, p := range pairs[:int(n)%4] {
			params[p[0]] = p[1]
		}
		sc, err := s.Scene(ctx, params)
		if err != nil {
			if !errors.Is(err, ErrInvalidParams) || checkParams(params) == nil {
				t.Fatalf("Scene(%q): %v", params, err)
			}
			return
		}
		if !Valid(sc) {
			t.Fatalf("Scene(%q) = %q: not a valid scene", params, sc)
		}
		if enc, ok := Encode(params); ok != !IsRef(sc) || ok && enc != sc {
			t.Fatalf("Scene(%q) = %q, Encode = %q, %v", params, sc, enc, ok)
		}
		got, err := s.Resolve(ctx, sc)
		if err != nil || !maps.Equal(got, params) {
			t.Fatalf("Resolve(Scene(%q) = %q) = %q, %v", params, sc, got, err)
		}
		if again, err := s.Scene(ctx, maps.Clone(params)); err != nil || again != sc {
			t.Fatalf("Scene(%q) again = %q, %v; want %q", params, again, err, sc)
		}
	})
}

// FuzzDecode checks that Decode never panics, only yields inline-safe keys
// and values, and agrees with Encode.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{"id:42", "from:u7;id:42", "id:42;from:u7", "~AbCdEfGh12345678", "a:b:c", "id:1;id:2", ";", ":", "", "中:文"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		params, err := Decode(s)
		if err != nil {
			if !errors.Is(err, ErrNotParams) || params != nil {
				t.Fatalf("Decode(%q) = %v, %v", s, params, err)
			}
			return
		}
		enc, ok := Encode(params)
		if !ok || len(enc) != len(s) {
			t.Fatalf("Decode(%q) = %q, but Encode gives %q, %v", s, params, enc, ok)
		}
		if back, err := Decode(enc); err != nil || !maps.Equal(back, params) {
			t.Fatalf("Decode(Encode(%q)) = %q, %v", params, back, err)
		}
	})
}
