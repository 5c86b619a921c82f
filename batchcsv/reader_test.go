package batchcsv

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/wxposter/wxposter/batchclient"
)

func readAll(t *testing.T, in string) ([]batchclient.Item, []int, error) {
	t.Helper()
	r, err := NewReader(strings.NewReader(in))
	if err != nil {
		return nil, nil, err
	}
	var items []batchclient.Item
	var lines []int
	for {
		it, err := r.Read()
		if errors.Is(err, io.EOF) {
			return items, lines, nil
		}
		if err != nil {
			return items, lines, err
		}
		items = append(items, it)
		lines = append(lines, r.Line())
	}
}

func TestReadItems(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  []batchclient.Item
		lines []int
	}{
		{"scene and data",
			"key,scene,data.nickname\nu1,id:1,小明\nu2,id:2,\"Li, Lei\"\n",
			[]batchclient.Item{
				{Key: "u1", Scene: "id:1", Data: map[string]string{"nickname": "小明"}},
				{Key: "u2", Scene: "id:2", Data: map[string]string{"nickname": "Li, Lei"}},
			}, []int{2, 3}},
		{"params, page, empty cells not set",
			"key,page,param.act,param.from,data.title\nk1,pages/a/a,run,u1,夜跑\nk2,,run,,\n",
			[]batchclient.Item{
				{Key: "k1", Page: "pages/a/a", Params: map[string]string{"act": "run", "from": "u1"}, Data: map[string]string{"title": "夜跑"}},
				{Key: "k2", Params: map[string]string{"act": "run"}},
			}, []int{2, 3}},
		{"BOM, spaces in header, CRLF, no key",
			"\uFEFF scene , data.t \r\na,x\r\nb,y\r\n",
			[]batchclient.Item{{Scene: "a", Data: map[string]string{"t": "x"}}, {Scene: "b", Data: map[string]string{"t": "y"}}},
			[]int{2, 3}},
		{"quoted newline moves the lines on; blank lines skipped",
			"key,data.t\nk1,\"two\nlines\"\n\nk2,z\n",
			[]batchclient.Item{{Key: "k1", Data: map[string]string{"t": "two\nlines"}}, {Key: "k2", Data: map[string]string{"t": "z"}}},
			[]int{2, 5}},
		{"scene set and param columns empty",
			"scene,param.a\nx,\n",
			[]batchclient.Item{{Scene: "x"}}, []int{2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, lines, err := readAll(t, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("items\n got %+v\nwant %+v", got, tt.want)
			}
			if !reflect.DeepEqual(lines, tt.lines) {
				t.Errorf("lines %v, want %v", lines, tt.lines)
			}
		})
	}
}

func TestMalformed(t *testing.T) {
	tests := []struct {
		name string
		in   string
		line int
		rule string // a part of the rule
	}{
		{"empty file", "", 1, "empty file"},
		{"header only", "key,scene\n", 2, "no rows after the header"},
		{"unknown column", "key,scen\nk,a\n", 1, `column 2 "scen": is not a known column`},
		{"column twice", "key,scene,key\n", 1, `column "key" appears twice (columns 1 and 3)`},
		{"param without name", "param.\n", 1, `needs a name after "param."`},
		{"data without name", "key,data. \n", 1, `needs a name after "data."`},
		{"empty column name", "key,,scene\n", 1, "column 2 \"\": has no name"},
		{"too few fields", "key,scene\nk1,a\nk2\n", 3, "wrong number of fields: every row needs 2"},
		{"too many fields", "key,scene\nk1,a\nk2,b\nk3,c,d\n", 4, "wrong number of fields"},
		{"bare quote", "key,data.t\nk1,say \"hi\"\n", 2, `bad quoting at byte 8 of the line: a " inside an unquoted field`},
		{"unterminated quote", "key,data.t\nk1,ok\nk2,\"open\nstill open\n", 4, "(the field opens on line 3)"},
		{"text after closing quote", "key,data.t\nk1,\"a\"b\n", 2, "bad quoting at byte 6 of the line"},
		{"scene and params", "key,scene,param.a\nk1,x,\nk2,y,z\n", 3, "scene and param.* are both set"},
		{"duplicate key", "key,scene\nk1,a\nk2,b\nk1,c\n", 4, `key "k1" is already used on line 2`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := readAll(t, tt.in)
			e, ok := errors.AsType[*Error](err)
			if !ok {
				t.Fatalf("err = %v, want *Error", err)
			}
			if e.Line != tt.line || !strings.Contains(e.Rule, tt.rule) {
				t.Errorf("got line %d %q, want line %d with %q", e.Line, e.Rule, tt.line, tt.rule)
			}
			if want := fmt.Sprintf("line %d: ", tt.line); !strings.HasPrefix(e.Error(), want) {
				t.Errorf("message %q does not start with %q", e.Error(), want)
			}
		})
	}
}

func TestFileNamesPathAndLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "people.csv")
	if err := os.WriteFile(path, []byte("key,scene\nk1,a\nk2,b,c\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Scan(path)
	if err == nil || !strings.HasPrefix(err.Error(), path+":3: wrong number of fields") {
		t.Fatalf("err = %v", err)
	}
	if _, err := Scan(filepath.Join(t.TempDir(), "missing.csv")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

// Items opens the file on every range, so a request can be sent twice.
func TestItemsRangesTwice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.csv")
	if err := os.WriteFile(path, []byte("scene\na\n\"b\nc\"\nd\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	lines, err := Scan(path)
	if err != nil || !reflect.DeepEqual(lines, []int{2, 3, 5}) {
		t.Fatalf("lines %v, %v", lines, err)
	}
	for range 2 {
		n := 0
		for it, err := range Items(path, nil) {
			if err != nil {
				t.Fatal(err)
			}
			n++
			_ = it
		}
		if n != 3 {
			t.Fatalf("%d items, want 3", n)
		}
	}
}

// A 100,000-row file is read a row at a time.
func BenchmarkRead100k(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("key,param.from,data.nickname,data.title\n")
	for i := range 100_000 {
		fmt.Fprintf(&sb, "u%06d,user-%06d,用户%d,周末一起去爬山\n", i, i, i)
	}
	in := sb.String()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := NewReader(strings.NewReader(in))
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := r.Read(); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				b.Fatal(err)
			}
		}
	}
}
