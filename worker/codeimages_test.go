package worker

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/wxposter/wxposter/internal/testenv"
	"github.com/wxposter/wxposter/storage"
	"github.com/wxposter/wxposter/tasks"
	"github.com/wxposter/wxposter/wechat"
)

// countingStore counts reads of code objects.
type countingStore struct {
	memStore
	codeGets atomic.Int32
}

func (s *countingStore) Get(ctx context.Context, key string) (*storage.Object, error) {
	if len(key) > 6 && key[:6] == "codes/" {
		s.codeGets.Add(1)
	}
	return s.memStore.Get(ctx, key)
}

// TestCampaignCodeDecodedOnce: posters sharing a code (a campaign) get it
// from WeChat once, never from storage again, and hand the renderer the very same
// decoded image, which the renderer then prepares once.
func TestCampaignCodeDecodedOnce(t *testing.T) {
	rdb := testenv.Redis(t)
	app := wechat.App{AppID: testenv.AppID(), Secret: "s"}
	codes, store := &pngCodes{}, &countingStore{}
	render := &fakeRenderer{}
	h := NewHandler(rdb, []wechat.App{app}, codes, store, render, fakeImages{},
		WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))), WithPacer(&fakePacer{}),
		WithTemplates(fakeTemplates{1: cardTemplate(t, 1)}))
	var first any
	for i, title := range []string{"一", "二", "三"} {
		p := tasks.PosterPayload{AppID: app.AppID, Template: "card", TemplateVersion: 1,
			Data: map[string]string{"title": title, "avatar": "https://thirdwx.qlogo.cn/a.png"},
			Code: wechat.UnlimitedCode{Page: "pages/index/index", Scene: "campaign"}}
		if _, err := h.run(context.Background(), p.JobID(), p); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = render.got.Code
			store.codeGets.Store(0) // the first looked twice (before and after the lock)
		} else if render.got.Code != first {
			t.Errorf("poster %d got another decoded code image", i+1)
		}
	}
	if n := codes.calls.Load(); n != 1 {
		t.Errorf("WeChat code calls = %d, want 1", n)
	}
	if n := store.codeGets.Load(); n != 0 {
		t.Errorf("code reads from storage after the first poster = %d, want 0", n)
	}
}
