package callback_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wxposter/wxposter/clients/callback"
)

// receiver is a batch callback receiver on net/http: it reads the raw body,
// verifies it, then handles each delivery once. secret is
// []byte(os.Getenv("WXPOSTER_CALLBACK_SECRET")).
func receiver(secret []byte) http.Handler {
	var mu sync.Mutex
	seen := map[string]bool{} // delivery ids already handled (use your database)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		err = callback.Verify(secret, body, r.Header.Get(callback.Header), time.Now(), callback.DefaultTolerance)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var event struct {
			Event      string `json:"event"`
			DeliveryID string `json:"delivery_id"`
			Batch      struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			} `json:"batch"`
		}
		if err := json.Unmarshal(body, &event); err != nil {
			http.Error(w, "bad JSON", http.StatusBadRequest)
			return
		}
		mu.Lock()
		first := !seen[event.DeliveryID] // delivered at least once: dedupe
		seen[event.DeliveryID] = true
		mu.Unlock()
		if first {
			fmt.Println(event.Event, event.Batch.ID, event.Batch.Status)
		}
		w.WriteHeader(http.StatusNoContent) // any 2xx stops the retries
	})
}

// A signed callback, the same delivery again, and a forged one.
func Example() {
	secret := []byte("whsec-example-0123456789")
	srv := httptest.NewServer(receiver(secret))
	defer srv.Close()
	body := `{"event":"batch.completed","delivery_id":"d-1","batch":{"id":"b1","status":"completed"}}`
	for _, header := range []string{signed(secret, body), signed(secret, body), "t=1,v1=00"} {
		req, _ := http.NewRequest("POST", srv.URL, strings.NewReader(body))
		req.Header.Set(callback.Header, header)
		resp, _ := http.DefaultClient.Do(req)
		resp.Body.Close()
		fmt.Println(resp.StatusCode)
	}
	// Output:
	// batch.completed b1 completed
	// 204
	// 204
	// 400
}

// signed is a header as wxposter makes it.
func signed(secret []byte, body string) string {
	t := strconv.FormatInt(time.Now().Unix(), 10)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(t + "." + body))
	return "t=" + t + ",v1=" + hex.EncodeToString(m.Sum(nil))
}
