package wechat

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrDecrypt is the one error every decrypt failure wraps (bad base64, wrong
// lengths, bad padding, bad JSON, wrong appid). Almost always the client's
// session_key is stale, so callers answer "session expired, log in again"
// rather than retrying.
var ErrDecrypt = errors.New("wechat: cannot decrypt data")

// decryptErr wraps ErrDecrypt with a fixed reason. Reasons are constants on
// purpose: the message must never carry the key, the iv or any plaintext.
func decryptErr(reason string) error { return fmt.Errorf("%w: %s", ErrDecrypt, reason) }

// DecryptData decrypts the encryptedData of wx.getShareInfo,
// wx.getGroupEnterInfo, wx.getChatToolInfo or wx.getUserInfo with the user's
// session_key (AES-128-CBC, PKCS#7, all three values in standard base64), and
// checks that watermark.appid is appID, so data encrypted for another app is
// refused. It returns the plaintext JSON object.
//
// Every length is checked before the cipher runs: crypto/cipher panics on a
// ciphertext that is not a whole number of blocks, which other SDKs feed it
// straight from the client.
func DecryptData(appID, sessionKey, encryptedData, iv string) ([]byte, error) {
	key, err := decodeB64(sessionKey)
	if err != nil || len(key) != 16 {
		return nil, decryptErr("session_key must be base64 of 16 bytes")
	}
	ivb, err := decodeB64(iv)
	if err != nil || len(ivb) != aes.BlockSize {
		return nil, decryptErr("iv must be base64 of 16 bytes")
	}
	data, err := decodeB64(encryptedData)
	if err != nil {
		return nil, decryptErr("encryptedData is not valid base64")
	}
	if len(data) == 0 || len(data)%aes.BlockSize != 0 {
		return nil, decryptErr("encryptedData is not a whole number of AES blocks")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, decryptErr("bad session_key")
	}
	plain := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, ivb).CryptBlocks(plain, data)
	plain, ok := unpadPKCS7(plain)
	if !ok {
		return nil, decryptErr("bad padding (stale session_key?)")
	}
	var doc struct {
		Watermark *struct {
			AppID string `json:"appid"`
		} `json:"watermark"`
	}
	// The first byte check refuses "null", which Unmarshal accepts into a struct.
	if plain = bytes.TrimSpace(plain); len(plain) == 0 || plain[0] != '{' || json.Unmarshal(plain, &doc) != nil {
		return nil, decryptErr("plaintext is not a JSON object")
	}
	if doc.Watermark == nil || doc.Watermark.AppID == "" {
		return nil, decryptErr("plaintext has no watermark.appid")
	}
	if doc.Watermark.AppID != appID {
		return nil, decryptErr("watermark.appid is not this app's")
	}
	return plain, nil
}

// decodeB64 is strict standard base64: padding required, no stray bits, and
// none of the CR/LF that encoding/base64 would otherwise skip. Only
// surrounding whitespace is forgiven.
func decodeB64(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if strings.ContainsAny(s, "\r\n") {
		return nil, errors.New("line breaks in base64")
	}
	return base64.StdEncoding.Strict().DecodeString(s)
}

// unpadPKCS7 strips strict PKCS#7 padding: 1..16 bytes, all equal to the
// count. Anything else means the key or iv was wrong.
func unpadPKCS7(b []byte) ([]byte, bool) {
	if len(b) == 0 || len(b)%aes.BlockSize != 0 {
		return nil, false
	}
	n := int(b[len(b)-1])
	if n < 1 || n > aes.BlockSize {
		return nil, false
	}
	for _, c := range b[len(b)-n:] {
		if int(c) != n {
			return nil, false
		}
	}
	return b[:len(b)-n], true
}

// GroupInfo is the decrypted group (chat) a mini-program was opened from.
// wx.getShareInfo spells the group id openGId; wx.getGroupEnterInfo and
// wx.getChatToolInfo spell it opengid and may add the rest.
type GroupInfo struct {
	// OpenGID identifies a group chat for this app.
	OpenGID string `json:"opengid,omitempty"`
	// ChatType is WeChat's chat_type: 1 WeChat single chat, 2 WeCom single
	// chat, 3 WeChat group, 4 WeCom group; 0 when absent.
	ChatType int `json:"chat_type,omitempty"`
	// GroupOpenID identifies the user within the chat (needGroupOpenID).
	GroupOpenID string `json:"group_openid,omitempty"`
	// OpenSingleRoomID identifies a single chat; it replaces OpenGID there.
	OpenSingleRoomID string `json:"open_single_roomid,omitempty"`
	// Timestamp is watermark.timestamp, when WeChat encrypted the data.
	Timestamp int64 `json:"timestamp,omitempty"`
}

// DecryptGroupInfo decrypts group share info (see DecryptData). It fails
// unless the data names a chat: an opengid/openGId, or an open_single_roomid
// for a single chat (group_openid alone identifies the user, not the chat).
func DecryptGroupInfo(appID, sessionKey, encryptedData, iv string) (*GroupInfo, error) {
	plain, err := DecryptData(appID, sessionKey, encryptedData, iv)
	if err != nil {
		return nil, err
	}
	var raw struct {
		OpenGIDShare     string `json:"openGId"`
		OpenGID          string `json:"opengid"`
		ChatType         int    `json:"chat_type"`
		GroupOpenID      string `json:"group_openid"`
		OpenSingleRoomID string `json:"open_single_roomid"`
		Watermark        struct {
			Timestamp int64 `json:"timestamp"`
		} `json:"watermark"`
	}
	if err := json.Unmarshal(plain, &raw); err != nil {
		return nil, decryptErr("group info has unexpected field types")
	}
	g := &GroupInfo{
		OpenGID:          raw.OpenGID,
		ChatType:         raw.ChatType,
		GroupOpenID:      raw.GroupOpenID,
		OpenSingleRoomID: raw.OpenSingleRoomID,
		Timestamp:        raw.Watermark.Timestamp,
	}
	if g.OpenGID == "" {
		g.OpenGID = raw.OpenGIDShare
	}
	if g.OpenGID == "" && g.OpenSingleRoomID == "" {
		return nil, decryptErr("data has no opengid or open_single_roomid")
	}
	return g, nil
}
