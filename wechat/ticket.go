package wechat

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// JSAPITicket returns the app's jsapi_ticket for JS-SDK signatures. Its
// quota is small, so it is held exactly like the access_token: one per app
// for the cluster, refreshed ahead of expiry.
func (c *Client) JSAPITicket(ctx context.Context, app App) (string, error) {
	return c.tickets.Get(ctx, app)
}

// fetchTicket calls cgi-bin/ticket/getticket (token errors are retried once
// with a fresh token by callWithToken).
func (c *Client) fetchTicket(ctx context.Context, app App) (string, int, error) {
	const api = "cgi-bin/ticket/getticket"
	resp, err := c.callWithToken(ctx, c.http, app, http.MethodGet, api, url.Values{"type": {"jsapi"}}, nil)
	if err != nil {
		return "", 0, err
	}
	if we := resp.errcode(api); we != nil {
		return "", 0, we
	}
	var r struct {
		Ticket    string `json:"ticket"`
		ExpiresIn int    `json:"expires_in"`
	}
	if err := json.Unmarshal(resp.body, &r); err != nil || r.Ticket == "" || r.ExpiresIn <= 0 {
		return "", 0, fmt.Errorf("wechat %s: no ticket in answer: %w", api, ErrUnexpectedPayload)
	}
	return r.Ticket, r.ExpiresIn, nil
}
