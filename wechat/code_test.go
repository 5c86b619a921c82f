package wechat

import (
	"errors"
	"strings"
	"testing"
)

func TestUnlimitedCodeValidate(t *testing.T) {
	yes := true
	cases := []struct {
		name  string
		req   UnlimitedCode
		field string // "" = valid
	}{
		{"minimal", UnlimitedCode{Scene: "a"}, ""},
		{"every allowed char", UnlimitedCode{Scene: "09AZaz!#$&'()*+,/:;=?@-._~"}, ""},
		{"32 chars", UnlimitedCode{Scene: strings.Repeat("x", 32)}, ""},
		{"full", UnlimitedCode{Scene: "id:42", Page: "pages/a/b", CheckPath: &yes, EnvVersion: EnvDevelop, Width: 1280, LineColor: &Color{255, 0, 0}}, ""},
		{"empty scene", UnlimitedCode{}, "scene"},
		{"33 chars", UnlimitedCode{Scene: strings.Repeat("x", 33)}, "scene"},
		{"percent", UnlimitedCode{Scene: "a%20"}, "scene"},
		{"space", UnlimitedCode{Scene: "a b"}, "scene"},
		{"chinese", UnlimitedCode{Scene: "中"}, "scene"},
		{"leading slash", UnlimitedCode{Scene: "a", Page: "/pages/x"}, "page"},
		{"query", UnlimitedCode{Scene: "a", Page: "pages/x?a=1"}, "page"},
		{"bad env", UnlimitedCode{Scene: "a", EnvVersion: "prod"}, "env_version"},
		{"width 279", UnlimitedCode{Scene: "a", Width: 279}, "width"},
		{"width 1281", UnlimitedCode{Scene: "a", Width: 1281}, "width"},
		{"color 256", UnlimitedCode{Scene: "a", LineColor: &Color{256, 0, 0}}, "line_color"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.req.Validate()
			var fe *FieldError
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field):
				t.Fatalf("err = %v, want field %s", err, tc.field)
			}
		})
	}
}

func TestNormalizeMakesEqualRequestsEqual(t *testing.T) {
	yes := true
	a := UnlimitedCode{Scene: "a"}.Normalize()
	b := UnlimitedCode{Scene: "a", Width: 430, EnvVersion: EnvRelease, CheckPath: &yes}.Normalize()
	if a.Width != b.Width || a.EnvVersion != b.EnvVersion || *a.CheckPath != *b.CheckPath {
		t.Fatalf("%+v != %+v", a, b)
	}
	if d := (UnlimitedCode{Scene: "a", EnvVersion: EnvDevelop}).Normalize(); *d.CheckPath {
		t.Fatal("develop codes must default to check_path=false (their pages are unpublished)")
	}
}

func TestErrorClassification(t *testing.T) {
	for code, temporary := range map[int]bool{
		-1: true, 45009: true, 45011: true, 40001: true, 42001: true,
		41030: false, 40129: false, 40169: false, 40097: false, 47001: false, 40013: false, 40125: false, 48001: false,
	} {
		if got := (&Error{Code: code}).Temporary(); got != temporary {
			t.Errorf("errcode %d: Temporary = %v, want %v", code, got, temporary)
		}
	}
}
