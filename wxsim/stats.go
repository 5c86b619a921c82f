package wxsim

import (
	"net/http"
	"sync"
)

// Stats counts answered API calls.
type Stats struct {
	// Calls maps an endpoint path (e.g. "/wxa/getwxacodeunlimit") to
	// errcode (0 = success) to the number of answers.
	Calls map[string]map[int]int `json:"calls"`
}

// stats has its own lock so counting never waits on token or code work.
type stats struct {
	mu    sync.Mutex
	calls map[string]map[int]int
}

func (st *stats) add(path string, code int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	m := st.calls[path]
	if m == nil {
		m = map[int]int{}
		st.calls[path] = m
	}
	m[code]++
}

// Stats returns a copy of the counters.
func (s *Sim) Stats() Stats {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	out := Stats{Calls: make(map[string]map[int]int, len(s.stats.calls))}
	for path, codes := range s.stats.calls {
		c := make(map[int]int, len(codes))
		for code, n := range codes {
			c[code] = n
		}
		out.Calls[path] = c
	}
	return out
}

// Count returns how many calls to endpoint answered errcode (0 = success).
func (s *Sim) Count(endpoint string, errcode int) int {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	return s.stats.calls[endpoint][errcode]
}

// Total returns how many calls to endpoint were answered, whatever the errcode.
func (s *Sim) Total(endpoint string) int {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	n := 0
	for _, c := range s.stats.calls[endpoint] {
		n += c
	}
	return n
}

// Reset zeroes the call counters and the rate-limit counters (minute quota,
// force_refresh daily count and spacing), so each test starts fresh. Tokens,
// tickets and sessions are kept.
func (s *Sim) Reset() {
	s.stats.mu.Lock()
	s.stats.calls = map[string]map[int]int{}
	s.stats.mu.Unlock()

	s.mu.Lock()
	for _, a := range s.apps {
		a.resetLimits()
	}
	s.mu.Unlock()
}

// serveAdmin answers the /sim/ endpoints, which are neither delayed nor counted.
func (s *Sim) serveAdmin(r *http.Request) reply {
	ok := func() reply {
		rp := jsonReply(map[string]any{"errcode": 0, "errmsg": "ok"})
		rp.ctype = "application/json"
		return rp
	}
	var method string
	var do func() reply
	switch r.URL.Path {
	case pathAdminStats:
		method = http.MethodGet
		do = func() reply {
			rp := jsonReply(s.Stats())
			rp.ctype = "application/json"
			return rp
		}
	case pathAdminReset:
		method = http.MethodPost
		do = func() reply { s.Reset(); return ok() }
	case pathAdminInvalidate:
		method = http.MethodPost
		do = func() reply { s.InvalidateTokens(); return ok() }
	default:
		rp := errReply(errNotFound)
		rp.status = http.StatusNotFound
		return rp
	}
	if r.Method != method {
		e := errRequireGET
		if method == http.MethodPost {
			e = errRequirePOST
		}
		rp := errReply(e)
		rp.status = http.StatusMethodNotAllowed
		return rp
	}
	return do()
}
