package callback

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// A vector made outside Go, with
//
//	printf '%s' "$t.$body" | openssl dgst -sha256 -hmac "$secret"
const (
	vecSecret = "whsec-test-0123456789"
	vecT      = 1764162000
	vecBody   = `{"event":"batch.completed","delivery_id":"d-1","batch":{"id":"b1","name":"春季","status":"completed","total":2}}`
	vecSig    = "72f6485a26f58282bc0d69268e8cfe66943c8ea0277232922014e968b92c47d5"
)

// sign makes the header as the spec says: t=<unix seconds>,v1=<hex
// HMAC-SHA256 of "<t>.<raw body>"> keyed by the secret.
func sign(secret, body string, t int64) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "%d.%s", t, body)
	return fmt.Sprintf("t=%d,v1=%s", t, hex.EncodeToString(m.Sum(nil)))
}

type vector struct {
	Name   string `json:"name"`
	Secret string `json:"secret"`
	Body   string `json:"body"`
	Header string `json:"header"`
	NowMS  int64  `json:"now_ms"`
	Want   string `json:"want"` // ok, signature, expired, malformed
}

func vectors() []vector {
	now := int64(vecT) * 1000
	good := "t=1764162000,v1=" + vecSig
	tampered := strings.Replace(vecBody, `"total":2`, `"total":3`, 1)
	stale := sign(vecSecret, vecBody, vecT-301)
	return []vector{
		{"openssl vector", vecSecret, vecBody, good, now, "ok"},
		{"signed per the spec", vecSecret, vecBody, sign(vecSecret, vecBody, vecT), now, "ok"},
		{"spaces and a second v1 (secret rotation)", vecSecret, vecBody, "t=1764162000, v1=" + strings.Repeat("ab", 32) + ", v1=" + vecSig, now, "ok"},
		{"within tolerance", vecSecret, vecBody, sign(vecSecret, vecBody, vecT-299), now, "ok"},
		{"tampered body", vecSecret, tampered, good, now, "signature"},
		{"body re-encoded", vecSecret, strings.ReplaceAll(vecBody, ":", ": "), good, now, "signature"},
		{"wrong secret", "whsec-other", vecBody, good, now, "signature"},
		{"timestamp changed", vecSecret, vecBody, "t=1764162001,v1=" + vecSig, now, "signature"},
		{"stale timestamp", vecSecret, vecBody, stale, now, "expired"},
		{"from the future", vecSecret, vecBody, sign(vecSecret, vecBody, vecT+301), now, "expired"},
		{"no header", vecSecret, vecBody, "", now, "malformed"},
		{"no t", vecSecret, vecBody, "v1=" + vecSig, now, "malformed"},
		{"no v1", vecSecret, vecBody, "t=1764162000", now, "malformed"},
		{"t not a number", vecSecret, vecBody, "t=soon,v1=" + vecSig, now, "malformed"},
		{"v1 not hex", vecSecret, vecBody, "t=1764162000,v1=zz", now, "malformed"},
	}
}

func kind(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrSignature):
		return "signature"
	case errors.Is(err, ErrExpired):
		return "expired"
	case errors.Is(err, ErrMalformed):
		return "malformed"
	}
	return err.Error()
}

func TestVerify(t *testing.T) {
	for _, v := range vectors() {
		t.Run(v.Name, func(t *testing.T) {
			err := Verify([]byte(v.Secret), []byte(v.Body), v.Header, time.UnixMilli(v.NowMS), DefaultTolerance)
			if got := kind(err); got != v.Want {
				t.Fatalf("Verify = %v (%s), want %s", err, got, v.Want)
			}
		})
	}
}

func node(t *testing.T) string {
	t.Helper()
	n, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed; the Node verifier is tested where it is")
	}
	return n
}

// verify.js gives the same answers on the same vectors.
func TestVerifyNode(t *testing.T) {
	script := `
const { verify } = require('./verify.js')
const kinds = { 'signature does not match': 'signature', 'timestamp outside the tolerance': 'expired', 'malformed signature header': 'malformed' }
const vs = JSON.parse(require('node:fs').readFileSync(0, 'utf8'))
console.log(JSON.stringify(vs.map(v => {
  try { verify(v.secret, Buffer.from(v.body, 'utf8'), v.header, { now: v.now_ms }); return 'ok' }
  catch (e) { return kinds[e.message] || e.message }
})))`
	in, _ := json.Marshal(vectors())
	cmd := exec.Command(node(t), "-e", script)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var got []string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("node printed %s", out)
	}
	for i, v := range vectors() {
		if got[i] != v.Want {
			t.Errorf("%s: node says %s, want %s", v.Name, got[i], v.Want)
		}
	}
}

// receiver.js, the documented Node receiver, accepts a signed callback
// once per delivery id and refuses a tampered one.
func TestNodeReceiver(t *testing.T) {
	cmd := exec.Command(node(t), "receiver.js", "0")
	cmd.Env = append(os.Environ(), "WXPOSTER_CALLBACK_SECRET="+vecSecret)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := bufio.NewScanner(stdout)
	var l struct{ Listening int }
	if !lines.Scan() || json.Unmarshal(lines.Bytes(), &l) != nil || l.Listening == 0 {
		t.Fatalf("receiver printed %q", lines.Text())
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/", l.Listening)
	post := func(body, header string) int {
		req, _ := http.NewRequest("POST", url, strings.NewReader(body))
		req.Header.Set(Header, header)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	now := time.Now().Unix()
	if code := post(vecBody, sign(vecSecret, vecBody, now)); code != 204 {
		t.Fatalf("signed: %d", code)
	}
	if code := post(vecBody, sign(vecSecret, vecBody, now+1)); code != 204 { // a retry of the same delivery
		t.Fatalf("retry: %d", code)
	}
	if code := post(strings.Replace(vecBody, "b1", "b2", 1), sign(vecSecret, vecBody, now)); code != 400 {
		t.Fatalf("tampered: %d", code)
	}
	if code := post(vecBody, sign(vecSecret, vecBody, now-3600)); code != 400 {
		t.Fatalf("stale: %d", code)
	}
	cmd.Process.Kill()
	var handled []string
	for lines.Scan() {
		handled = append(handled, lines.Text())
	}
	if len(handled) != 1 || handled[0] != `{"delivery_id":"d-1","batch":"b1","status":"completed"}` {
		t.Fatalf("handled %q, want the delivery once", handled)
	}
}
