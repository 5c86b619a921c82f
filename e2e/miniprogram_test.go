package e2e

import (
	"encoding/json"
	"net/url"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/wxposter/wxposter/scene"
)

// The mini-program helper in clients/miniprogram resolves both scene forms
// against the real API. wx.request is played by Node's fetch.
func TestMiniProgramSceneHelper(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed; the helper is tested where it is")
	}
	s := start(t)
	params := map[string]string{"campaign": "2026-double-eleven", "from": "user-000123", "ch": "group"}
	if j := s.await(s.submit(map[string]any{"page": pageIndex, "params": params}).ID); j.Status != "succeeded" {
		t.Fatal(j)
	}
	ref, err := scene.NewStore(s.rdb).Scene(ctxT(t), params) // deterministic: the poster's scene
	if err != nil || !scene.IsRef(ref) {
		t.Fatalf("scene %q, %v", ref, err)
	}
	helper, _ := filepath.Abs("../clients/miniprogram/utils/scene.js")
	script := `
globalThis.wx = { request({ url, success, fail }) {
  fetch(url).then(async r => success({ statusCode: r.status, data: await r.json() })).catch(fail)
} }
const { resolveScene } = require(process.argv[1])
const base = process.argv[2]
Promise.all(process.argv.slice(3).map(s => resolveScene({ scene: s }, base)))
  .then(r => console.log(JSON.stringify(r)), e => { console.error(e); process.exit(1) })`
	// WeChat hands the page the scene URL-encoded.
	out, err := exec.Command(node, "-e", script, helper, s.api.URL,
		url.QueryEscape(ref), url.QueryEscape("from:u7;id:42")).CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var got []map[string]string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("node printed %s", out)
	}
	if got[0]["campaign"] != "2026-double-eleven" || got[0]["ch"] != "group" || got[1]["id"] != "42" || got[1]["from"] != "u7" {
		t.Fatalf("resolved %v", got)
	}
}
