package producer

import (
	"context"
	"testing"
)

// urlStore is an Objects that only knows its URLs.
type urlStore struct{}

func (urlStore) Exists(context.Context, string) (bool, error) { return false, nil }
func (urlStore) URL(key string) string                        { return "http://s3.test/b/" + key }
func (urlStore) Ping(context.Context) error                   { return nil }

// A worker's done message answers a waiting poll only when it names this
// store's poster of that job; anything else makes the poll read the job.
func TestDoneView(t *testing.T) {
	s := &Server{store: urlStore{}}
	const id = "0123456789abcdef0123456789abcdef"
	url := "http://s3.test/b/posters/" + id + ".jpg"
	for _, tc := range []struct {
		name, msg string
		want      bool
	}{
		{"made", `{"url":"` + url + `","attempts":2}`, true},
		{"failed (empty)", ``, false},
		{"an older worker's bare URL", url, false},
		{"another store's URL", `{"url":"http://other/b/posters/` + id + `.jpg","attempts":1}`, false},
		{"another job's poster", `{"url":"http://s3.test/b/posters/ffff.jpg","attempts":1}`, false},
		{"no attempts", `{"url":"` + url + `"}`, false},
		{"not JSON", `{"url":`, false},
	} {
		v := s.doneView(id, tc.msg)
		if (v != nil) != tc.want {
			t.Errorf("%s: doneView = %+v, want a view: %v", tc.name, v, tc.want)
			continue
		}
		if v != nil && (v.Status != statusSucceeded || v.URL != url || v.Attempts != 2 || v.ID != id) {
			t.Errorf("%s: view %+v", tc.name, v)
		}
	}
}
