package wxsim

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzEndpoints feeds arbitrary bodies and queries to every endpoint: the
// simulator must answer, never panic.
func FuzzEndpoints(f *testing.F) {
	seeds := []string{
		`{"scene":"a","width":430}`,
		`{"scene":"a","line_color":{"r":1e308,"g":-1,"b":0.5}}`,
		`{"path":"` + strings.Repeat("x", 3000) + `"}`,
		`{"scene":"a","page":"` + strings.Repeat("p", 5000) + `","check_path":false}`,
		`{"grant_type":"client_credential","appid":"wxtestapp0000001","secret":"s3cr3t","force_refresh":true}`,
		`{"scene":null,"width":null}`,
		`{`, `[]`, `"x"`, `1`, ``,
	}
	for _, b := range seeds {
		f.Add(b, "access_token=x&type=jsapi")
	}
	s := New(WithApp(testApp, testSecret))
	tok := s.issueTestToken()
	f.Fuzz(func(t *testing.T, body, query string) {
		for path := range routes {
			for _, q := range []string{query, "access_token=" + tok + "&" + query} {
				for _, m := range []string{http.MethodGet, http.MethodPost} {
					req := httptest.NewRequest(m, "http://sim"+path, strings.NewReader(body))
					req.URL.RawQuery = q
					rec := httptest.NewRecorder()
					s.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") == "" {
						t.Fatalf("%s %s?%s: %d", m, path, q, rec.Code)
					}
				}
			}
		}
	})
}

// issueTestToken issues a stable token without HTTP.
func (s *Sim) issueTestToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueToken(s.apps[testApp], kindStable)
}
