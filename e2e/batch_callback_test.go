package e2e

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	wxbatch "github.com/wxposter/wxposter/batch"
)

// receiver is a batch callback endpoint that records what it was sent.
type receiver struct {
	tb     testing.TB
	secret []byte
	mu     sync.Mutex
	got    []delivery
	// refuse makes it answer 503 while true.
	refuse bool
	srv    *http.Server
	ln     net.Listener
	addr   string
}

type delivery struct {
	ID       string
	Event    wxbatch.Event
	Valid    bool // signature verified
	Refused  bool
	Received time.Time
}

// newReceiver listens on addr ("127.0.0.1:0" for any port).
func newReceiver(tb testing.TB, secret, addr string) *receiver {
	r := &receiver{tb: tb, secret: []byte(secret), addr: addr}
	r.listen()
	tb.Cleanup(r.stop)
	return r
}

func (r *receiver) listen() {
	ln, err := net.Listen("tcp", r.addr)
	if err != nil {
		r.tb.Fatal(err)
	}
	r.ln, r.addr = ln, ln.Addr().String()
	r.srv = &http.Server{Handler: r}
	go r.srv.Serve(ln)
}

func (r *receiver) stop() {
	if r.srv != nil {
		r.srv.Close()
		r.srv = nil
	}
}

func (r *receiver) url() string { return "http://" + r.addr + "/hooks/batch?token=s3cr3t" }

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	var ev wxbatch.Event
	_ = json.Unmarshal(body, &ev)
	err := wxbatch.Verify(r.secret, req.Header.Get(wxbatch.SignatureHeader), body, time.Now(), 5*time.Minute)
	r.mu.Lock()
	defer r.mu.Unlock()
	d := delivery{ID: ev.DeliveryID, Event: ev, Valid: err == nil, Refused: r.refuse, Received: time.Now()}
	r.got = append(r.got, d)
	if r.refuse {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) setRefuse(v bool) {
	r.mu.Lock()
	r.refuse = v
	r.mu.Unlock()
}

// accepted are the deliveries answered 2xx.
func (r *receiver) accepted() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []delivery
	for _, d := range r.got {
		if !d.Refused {
			out = append(out, d)
		}
	}
	return out
}

func (r *receiver) all() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.got...)
}

// awaitAccepted waits until n deliveries were accepted.
func (r *receiver) awaitAccepted(n int, d time.Duration) []delivery {
	r.tb.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if got := r.accepted(); len(got) >= n {
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.tb.Fatalf("callback receiver: %d accepted deliveries in %s, want %d (all: %+v)", len(r.accepted()), d, n, r.all())
	return nil
}

// TestBatchCallbackReceiverDown: a receiver that is down (refusing
// connections, then answering 503) gets the callback once it is back, with
// the same delivery_id on every attempt and a valid signature each time.
func TestBatchCallbackReceiverDown(t *testing.T) {
	const secret = "batch-callback-secret-e2e"
	// A free port, then closed: down, connections refused. (A fixed port
	// would collide when several checkouts run the tests at once.)
	rcv := newReceiver(t, secret, "127.0.0.1:0")
	rcv.stop()
	s := start(t, withCallbacks(secret, rcv.addr))
	s.dumpLogsOnFailure()
	id := s.createBatch(map[string]any{"page": pageIndex, "callback_url": rcv.url(),
		"items": []any{map[string]any{"scene": "cb:1"}, map[string]any{"scene": "cb:2"}}})
	s.awaitBatch(id, 30*time.Second)
	time.Sleep(2 * time.Second)
	rcv.setRefuse(true) // up, but failing
	rcv.listen()
	deadline := time.Now().Add(30 * time.Second)
	for len(rcv.all()) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	rcv.setRefuse(false)
	got := rcv.awaitAccepted(1, 60*time.Second)
	all := rcv.all()
	if len(all) < 2 {
		t.Fatalf("deliveries %+v, want a refused one and an accepted one", all)
	}
	for _, d := range all {
		if d.ID != wxbatch.DeliveryID(id, 1) || !d.Valid {
			t.Errorf("delivery %+v, want id %s and a valid signature", d, wxbatch.DeliveryID(id, 1))
		}
	}
	time.Sleep(time.Second)
	if len(rcv.accepted()) != 1 || got[0].Event.Batch.Counts.Succeeded != 2 {
		t.Fatalf("accepted %+v, want exactly one", rcv.accepted())
	}
}
