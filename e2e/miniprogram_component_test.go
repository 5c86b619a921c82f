package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The share-poster component, run once against the real producer through
// the Node example backend: tap, long-poll, download, share menu.
func TestShareComponentAgainstProducer(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed (scripts/devenv.sh installs it)")
	}
	mp, _ := filepath.Abs("../clients/miniprogram")
	if _, err := os.Stat(filepath.Join(mp, "node_modules", "miniprogram-simulate")); err != nil {
		t.Skip("run scripts/devenv.sh (npm ci in clients/miniprogram) first")
	}
	s := start(t, withAPIKeys("backend-key"))
	palette := []byte(`{"width":"600rpx","height":"800rpx","background":"#fff5ee","views":[
		{"type":"text","text":"{{nickname}} 邀请你","css":{"left":"40rpx","top":"60rpx","fontSize":"40rpx"}},
		{"type":"wxacode","css":{"left":"150rpx","top":"300rpx","width":"300rpx","height":"300rpx"}}]}`)
	if code, b := s.callAs("backend-key", "PUT", "/v1/templates/invite", palette); code != 201 {
		t.Fatalf("PUT = %d %s", code, b)
	}

	// The developer's backend: the Node example, holding the API key.
	backend := exec.Command(node, "../examples/backend/node/server.js")
	backend.Env = append(os.Environ(), "WXPOSTER_URL="+s.api.URL, "WXPOSTER_API_KEY=backend-key", "PORT=0", "POSTER_PAGE="+pageIndex)
	stdout, _ := backend.StdoutPipe()
	var stderr bytes.Buffer
	backend.Stderr = &stderr
	if err := backend.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = backend.Process.Kill(); _ = backend.Wait() })
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("backend did not start: %v %s", err, stderr.String())
	}
	addr = strings.TrimSpace(addr)

	dir := t.TempDir()
	req := `{"template":"invite","data":{"nickname":"小明"}}`
	cmd := exec.Command(node, filepath.Join(mp, "test", "live.js"), addr, "u7", req, dir)
	cmd.Dir = mp
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("component: %v\n%s", err, out)
	}
	var res struct {
		Done   struct{ URL, Path string } `json:"done"`
		Shared string                     `json:"shared"`
		Errors []map[string]string        `json:"errors"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("component printed %s", out)
	}
	if len(res.Errors) > 0 || res.Done.Path == "" || res.Shared != res.Done.Path {
		t.Fatalf("component = %s", out)
	}
	b, err := os.ReadFile(res.Done.Path)
	if err != nil {
		t.Fatal(err)
	}
	img, format, err := image.Decode(bytes.NewReader(b))
	if err != nil || format != "jpeg" || img.Bounds().Dx() != 600 {
		t.Fatalf("downloaded poster: %s %v %v", format, img.Bounds(), err)
	}
	// The backend chose the page and the scene: the code opens them.
	if got, want := scanQR(t, img), pageIndex+"?scene=from:u7"; got != want {
		t.Errorf("QR = %q, want %q", got, want)
	}
}
