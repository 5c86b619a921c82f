package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"
)

// issue 9: clients that send headers and never the body stayed connected
// indefinitely; headers had no size limit.
func TestHTTPServerLimits(t *testing.T) {
	srv := newHTTPServer(http.NotFoundHandler())
	if srv.ReadTimeout <= 0 || srv.ReadHeaderTimeout <= 0 || srv.MaxHeaderBytes <= 0 || srv.MaxHeaderBytes > 1<<20 {
		t.Fatalf("limits: read %s, header %s, max header bytes %d", srv.ReadTimeout, srv.ReadHeaderTimeout, srv.MaxHeaderBytes)
	}
	// The body read timeout at work (shortened for the test).
	srv.ReadTimeout = 300 * time.Millisecond
	srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err == nil {
			t.Error("reading a body that never comes succeeded")
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "POST /v1/posters HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	// The server gives up on the body and closes the connection.
	if _, err := io.ReadAll(bufio.NewReader(conn)); err != nil {
		t.Fatalf("connection not closed by the server: %v", err)
	}
}

// drainHandler holds requests until Drain, as the producer's long polls.
type drainHandler struct{ drain chan struct{} }

func (d *drainHandler) Drain() { close(d.drain) }
func (d *drainHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	<-d.drain
	io.WriteString(w, "current status")
}

// issue 9: on SIGTERM the producer dropped every ?wait=30 poller after 10 s
// and exited 1. Shutdown drains the handler: held requests are answered at
// once and serving ends without an error.
func TestShutdownAnswersHeldRequests(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		errc <- serveListener(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), "test", ln, &drainHandler{make(chan struct{})})
	}()
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/v1/posters/x?wait=30")
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(b)
	}()
	time.Sleep(200 * time.Millisecond) // the poll is in
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("serveListener: %v, want nil (exit 0)", err)
	}
	if s := <-got; s != "current status" {
		t.Fatalf("held poll got %q", s)
	}
}
