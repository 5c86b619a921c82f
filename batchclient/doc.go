// Package batchclient is a small client for wxposter's batch API
// (docs/batches.md): create a batch from a stream of items, follow it with
// long polls, page its items, and download its manifest and ZIP archive.
//
// It is what `wxposter batch` uses, and it is usable alone:
//
//	c, err := batchclient.New("http://127.0.0.1:8080", batchclient.WithAPIKey(key))
//	created, err := c.Create(ctx, batchclient.CreateRequest{Template: "invite"}, batchclient.Slice(items))
//	b, err := c.Get(ctx, created.ID, 10*time.Second)
package batchclient
