package wxsim

import (
	"net/http"
	"time"
)

type ticketAnswer struct {
	Errcode   int    `json:"errcode"`
	Errmsg    string `json:"errmsg"`
	Ticket    string `json:"ticket"`
	ExpiresIn int    `json:"expires_in"`
}

// serveTicket is GET /cgi-bin/ticket/getticket. Every call issues a new
// ticket; earlier ones stay valid until they expire (WeChat is vaguer).
func (s *Sim) serveTicket(r *http.Request) reply {
	if r.Method != http.MethodGet {
		return errReply(errRequireGET)
	}
	if _, e := s.checkToken(r); e != nil {
		return errReply(e)
	}
	switch r.URL.Query().Get("type") {
	case "jsapi", "wx_card":
	default:
		return errReply(errInvalidArgs)
	}
	t := randomString(64) // 86 characters, like real tickets
	s.mu.Lock()
	ttl := s.tokenTTL
	s.tickets[t] = s.now().Add(ttl)
	s.mu.Unlock()
	return jsonReply(ticketAnswer{Errmsg: "ok", Ticket: t, ExpiresIn: int(ttl / time.Second)})
}

// ValidTicket reports whether t was issued by getticket and has not expired.
func (s *Sim) ValidTicket(t string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tickets[t]
	return ok && s.now().Before(exp)
}
