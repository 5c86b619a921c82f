package wechat

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// Image is a code image as WeChat sent it.
type Image struct {
	Data []byte
	// ContentType is from the bytes, not the header: "image/jpeg" or
	// "image/png" (is_hyaline gives a PNG whatever the header says).
	ContentType string
}

// GetUnlimitedCode calls wxa/getwxacodeunlimit. The request is validated
// first (a rejected call still costs quota), then sent as JSON with its real
// types. The answer is an image only if both its MIME type and its first
// bytes say so; otherwise it is an errcode (*Error) or ErrUnexpectedPayload.
func (c *Client) GetUnlimitedCode(ctx context.Context, app App, req UnlimitedCode) (*Image, error) {
	const api = "wxa/getwxacodeunlimit"
	if err := req.Validate(); err != nil {
		return nil, fmt.Errorf("wechat %s: %w", api, err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep & = < > in scene literal
	if err := enc.Encode(req); err != nil {
		return nil, fmt.Errorf("wechat %s: encode: %w", api, err)
	}
	resp, err := c.callWithToken(ctx, c.codeHTTP, app, http.MethodPost, api, nil, bytes.TrimSpace(buf.Bytes()))
	if err != nil {
		return nil, err
	}
	return resp.image(api)
}

// image classifies a code response.
func (r *response) image(api string) (*Image, error) {
	if we := r.errcode(api); we != nil {
		return nil, we
	}
	sniffed := sniffImage(r.body)
	mt := r.mediaType()
	if sniffed == "" || (mt != "image/jpeg" && mt != "image/png") {
		return nil, fmt.Errorf("wechat %s: %q answer of %d bytes that is neither an image nor an errcode: %w",
			api, r.contentType, len(r.body), ErrUnexpectedPayload)
	}
	return &Image{Data: r.body, ContentType: sniffed}, nil
}

var (
	jpegMagic = []byte{0xFF, 0xD8, 0xFF}
	pngMagic  = []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}
)

// sniffImage returns the MIME type of JPEG or PNG bytes, else "".
func sniffImage(b []byte) string {
	switch {
	case bytes.HasPrefix(b, jpegMagic):
		return "image/jpeg"
	case bytes.HasPrefix(b, pngMagic):
		return "image/png"
	}
	return ""
}
