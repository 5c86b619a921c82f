package scene

import (
	"errors"
	"maps"
	"strings"
	"testing"
)

func TestEncode(t *testing.T) {
	x := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name   string
		params map[string]string
		want   string
		ok     bool
	}{
		{"seed article", map[string]string{"id": "42"}, "id:42", true},
		{"sorted keys", map[string]string{"id": "42", "from": "u7"}, "from:u7;id:42", true},
		{"exactly 32", map[string]string{"a": x(30)}, "a:" + x(30), true},
		{"exactly 32, two keys", map[string]string{"a": x(13), "b": x(14)}, "a:" + x(13) + ";b:" + x(14), true},
		{"33", map[string]string{"a": x(31)}, "", false},
		{"33, two keys", map[string]string{"a": x(14), "b": x(14)}, "", false},
		{"allowed punctuation", map[string]string{"u": "a!#$&'()*+,/=?@-._"}, "u:a!#$&'()*+,/=?@-._", true},
		{"empty map", map[string]string{}, "", false},
		{"nil map", nil, "", false},
		{"empty value", map[string]string{"id": ""}, "", false},
		{"empty key", map[string]string{"": "1"}, "", false},
		{"colon in value", map[string]string{"t": "12:30"}, "", false},
		{"semicolon in value", map[string]string{"t": "a;b"}, "", false},
		{"tilde in value", map[string]string{"t": "a~b"}, "", false},
		{"tilde in key", map[string]string{"~id": "1"}, "", false},
		{"colon in key", map[string]string{"a:b": "1"}, "", false},
		{"unicode", map[string]string{"name": "小明"}, "", false},
		{"percent", map[string]string{"q": "a%20b"}, "", false},
		{"space", map[string]string{"q": "a b"}, "", false},
		{"control", map[string]string{"q": "a\x00"}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Encode(tt.params)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("Encode = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
			if ok && (!Valid(got) || IsRef(got)) {
				t.Fatalf("Encode produced %q: valid %v, ref %v", got, Valid(got), IsRef(got))
			}
		})
	}
}

func TestDecode(t *testing.T) {
	tests := []struct {
		scene string
		want  map[string]string
	}{
		{"id:42", map[string]string{"id": "42"}},
		{"from:u7;id:42", map[string]string{"id": "42", "from": "u7"}},
		{"id:42;from:u7", map[string]string{"id": "42", "from": "u7"}}, // hand-built, unsorted
		{"a:" + strings.Repeat("x", 30), map[string]string{"a": strings.Repeat("x", 30)}},
		{"u:a!#$&'()*+,/=?@-._", map[string]string{"u": "a!#$&'()*+,/=?@-._"}},
	}
	for _, tt := range tests {
		got, err := Decode(tt.scene)
		if err != nil || !maps.Equal(got, tt.want) {
			t.Errorf("Decode(%q) = %v, %v; want %v", tt.scene, got, err, tt.want)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, s := range []string{
		"",
		"42",                            // a plain scene, no params
		"id",                            // no colon
		"id:",                           // empty value
		":42",                           // empty key
		"id:42;",                        // trailing separator
		";id:42",                        // leading separator
		"id:42;;from:u7",                // empty pair
		"a:b:c",                         // colon in value
		"id:1;id:2",                     // repeated key
		"id:4~2",                        // tilde
		"~AbCdEfGh12345678",             // a reference
		"~",                             // the bare prefix
		"a:" + strings.Repeat("x", 31),  // 33 characters
		"name:小明",                       // not allowed
		"q:a%20b",                       // not allowed
		"q:a b",                         // not allowed
		"q:\x00",                        // not allowed
		strings.Repeat("k:v;", 8) + "k", // too long
	} {
		got, err := Decode(s)
		if !errors.Is(err, ErrNotParams) || got != nil {
			t.Errorf("Decode(%q) = %v, %v; want ErrNotParams", s, got, err)
		}
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for _, p := range []map[string]string{
		{"id": "42"},
		{"id": "42", "from": "u7", "s": "1"},
		{"a": "1", "b": "2", "c": "3", "d": "4", "e": "5", "f": "6", "g": "7", "h": "8"},
		{"x!": "(y)", "k.v": "a/b?c=d&e@f"},
	} {
		s, ok := Encode(p)
		if !ok {
			t.Fatalf("Encode(%v) not inline", p)
		}
		got, err := Decode(s)
		if err != nil || !maps.Equal(got, p) {
			t.Errorf("Decode(Encode(%v)) = %v, %v", p, got, err)
		}
	}
}

func TestValid(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"a", true},
		{strings.Repeat("a", MaxLen), true},
		{"0-9A-Za-z!#$&'()*+,/:;=?@-._~", true},
		{"", false},
		{strings.Repeat("a", MaxLen+1), false},
		{"a b", false},
		{"a%b", false},
		{`a"b`, false},
		{"a<b", false},
		{"a\\b", false},
		{"中", false},
	}
	for _, tt := range tests {
		if got := Valid(tt.s); got != tt.want {
			t.Errorf("Valid(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

func TestIsRef(t *testing.T) {
	if !IsRef("~AbC") || IsRef("id:1") || IsRef("") || IsRef("a~") {
		t.Error("IsRef disagrees with RefPrefix")
	}
}
