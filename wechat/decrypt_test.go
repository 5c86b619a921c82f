package wechat

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// The example of WeChat's 开放数据校验与解密 documentation (the demo code
// WXBizDataCrypt ships with it), as copied verbatim into many SDKs' tests.
const (
	officialAppID      = "wx4f4bc4dec97d474b"
	officialSessionKey = "tiihtNczf5v6AKRyjwEUhQ=="
	officialIV         = "r7BXXKkLb8qrSNn05n0qiA=="
	officialData       = "CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZMQmRzooG2xrDcvSnxIMXFufNstNGTyaGS" +
		"9uT5geRa0W4oTOb1WT7fJlAC+oNPdbB+3hVbJSRgv+4lGOETKUQz6OYStslQ142d" +
		"NCuabNPGBzlooOmB231qMM85d2/fV6ChevvXvQP8Hkue1poOFtnEtpyxVLW1zAo6" +
		"/1Xx1COxFvrc2d7UL/lmHInNlxuacJXwu0fjpXfz/YqYzBIBzD6WUfTIF9GRHpOn" +
		"/Hz7saL8xz+W//FRAUid1OksQaQx4CMs8LOddcQhULW4ucetDf96JcR3g0gfRK4P" +
		"C7E/r7Z6xNrXd2UIeorGj5Ef7b1pJAYB6Y5anaHqZ9J6nKEBvB4DnNLIVWSgARns" +
		"/8wR2SiRS7MNACwTyrGvt9ts8p12PKFdlqYTopNHR1Vf7XjfhQlVsAJdNiKdYmYV" +
		"oKlaRv85IfVunYzO0IKXsyl7JCUjCpoG20f0a04COwfneQAGGwd5oa+T8yO5hzuy" +
		"Db/XcxxmK01EpqOyuxINew=="
)

func TestDecryptDataOfficialExample(t *testing.T) {
	plain, err := DecryptData(officialAppID, officialSessionKey, officialData, officialIV)
	if err != nil {
		t.Fatalf("DecryptData: %v", err)
	}
	var got struct {
		OpenID    string `json:"openId"`
		NickName  string `json:"nickName"`
		Gender    int    `json:"gender"`
		City      string `json:"city"`
		Province  string `json:"province"`
		Country   string `json:"country"`
		UnionID   string `json:"unionId"`
		Watermark struct {
			AppID     string `json:"appid"`
			Timestamp int64  `json:"timestamp"`
		} `json:"watermark"`
	}
	if err := json.Unmarshal(plain, &got); err != nil {
		t.Fatalf("plaintext is not JSON: %v", err)
	}
	want := map[string]string{
		"openId":          "oGZUI0egBJY1zhBYw2KhdUfwVJJE",
		"nickName":        "Band",
		"city":            "Guangzhou",
		"province":        "Guangdong",
		"country":         "CN",
		"unionId":         "ocMvos6NjeKLIBqg5Mr9QjxrP1FA",
		"watermark.appid": officialAppID,
	}
	have := map[string]string{
		"openId": got.OpenID, "nickName": got.NickName, "city": got.City,
		"province": got.Province, "country": got.Country, "unionId": got.UnionID,
		"watermark.appid": got.Watermark.AppID,
	}
	for k, v := range want {
		if have[k] != v {
			t.Errorf("%s = %q, want %q", k, have[k], v)
		}
	}
	if got.Gender != 1 || got.Watermark.Timestamp != 1477314187 {
		t.Errorf("gender %d, watermark.timestamp %d; want 1, 1477314187", got.Gender, got.Watermark.Timestamp)
	}
}

func TestDecryptDataWrongAppID(t *testing.T) {
	for _, appID := range []string{"wx0000000000000000", "", "WX4F4BC4DEC97D474B", officialAppID + " "} {
		_, err := DecryptData(appID, officialSessionKey, officialData, officialIV)
		if !errors.Is(err, ErrDecrypt) {
			t.Errorf("appid %q: err = %v, want ErrDecrypt", appID, err)
		}
	}
}

func TestDecryptDataToleratesSurroundingWhitespace(t *testing.T) {
	_, err := DecryptData(officialAppID, " "+officialSessionKey+"\n", "\t"+officialData+"\r\n", officialIV+" ")
	if err != nil {
		t.Fatalf("DecryptData: %v", err)
	}
}

// testEncrypt is the inverse of DecryptData, for round trips and for
// ciphertexts with chosen (bad) padding. pad < 0 means correct PKCS#7.
func testEncrypt(t testing.TB, key, iv, plain []byte, pad int) string {
	t.Helper()
	if pad < 0 {
		n := aes.BlockSize - len(plain)%aes.BlockSize
		plain = append(bytes.Clone(plain), bytes.Repeat([]byte{byte(n)}, n)...)
	}
	if len(plain)%aes.BlockSize != 0 {
		t.Fatalf("testEncrypt: %d bytes is not whole blocks", len(plain))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(out, plain)
	return base64.StdEncoding.EncodeToString(out)
}

var (
	testKey   = []byte("0123456789abcdef")
	testIV    = []byte("fedcba9876543210")
	testKey64 = base64.StdEncoding.EncodeToString(testKey)
	testIV64  = base64.StdEncoding.EncodeToString(testIV)
)

func TestDecryptDataBadInputs(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString
	good := testEncrypt(t, testKey, testIV, []byte(`{"watermark":{"appid":"wxapp","timestamp":1}}`), -1)
	block16 := bytes.Repeat([]byte{'a'}, 16)
	padded := func(s string) []byte { // s then PKCS#7 padding
		n := aes.BlockSize - len(s)%aes.BlockSize
		return append([]byte(s), bytes.Repeat([]byte{byte(n)}, n)...)
	}
	badPad := func(tail ...byte) []byte { return append(bytes.Repeat([]byte{'x'}, 16-len(tail)), tail...) }

	tests := []struct {
		name          string
		key, data, iv string
	}{
		{"key not base64", "not*base64*at*all!!", good, testIV64},
		{"iv not base64", testKey64, good, "%%%%"},
		{"data not base64", testKey64, "@@@@" + good, testIV64},
		{"data missing padding", testKey64, strings.TrimRight(officialData, "="), testIV64},
		{"line break inside", testKey64, good[:8] + "\n" + good[8:], testIV64},
		{"url-safe alphabet", testKey64, strings.NewReplacer("+", "-", "/", "_").Replace(officialData), testIV64},
		{"empty key", "", good, testIV64},
		{"15-byte key", b64(testKey[:15]), good, testIV64},
		{"17-byte key", b64(append(bytes.Clone(testKey), 'x')), good, testIV64},
		{"32-byte key", b64(bytes.Repeat(testKey, 2)), good, testIV64},
		{"15-byte iv", testKey64, good, b64(testIV[:15])},
		{"17-byte iv", testKey64, good, b64(append(bytes.Clone(testIV), 'x'))},
		{"empty iv", testKey64, good, ""},
		{"0-byte data", testKey64, "", testIV64},
		{"15-byte data", testKey64, b64(block16[:15]), testIV64},
		{"17-byte data", testKey64, b64(append(bytes.Clone(block16), 'x')), testIV64},
		{"pad 0", testKey64, testEncrypt(t, testKey, testIV, badPad(0), 0), testIV64},
		{"pad 17", testKey64, testEncrypt(t, testKey, testIV, badPad(17), 0), testIV64},
		{"pad bytes differ", testKey64, testEncrypt(t, testKey, testIV, badPad(3, 2, 3), 0), testIV64},
		{"pad longer than data", testKey64, testEncrypt(t, testKey, testIV, bytes.Repeat([]byte{32}, 16), 0), testIV64},
		{"valid padding, not JSON", testKey64, testEncrypt(t, testKey, testIV, padded("hello, world"), 0), testIV64},
		{"JSON array", testKey64, testEncrypt(t, testKey, testIV, padded(`[{"watermark":{"appid":"wxapp"}}]`), 0), testIV64},
		{"JSON null", testKey64, testEncrypt(t, testKey, testIV, padded(`null`), 0), testIV64},
		{"JSON without watermark", testKey64, testEncrypt(t, testKey, testIV, padded(`{"openGId":"G"}`), 0), testIV64},
		{"watermark without appid", testKey64, testEncrypt(t, testKey, testIV, padded(`{"watermark":{"timestamp":1}}`), 0), testIV64},
		{"appid not a string", testKey64, testEncrypt(t, testKey, testIV, padded(`{"watermark":{"appid":7}}`), 0), testIV64},
		{"trailing garbage", testKey64, testEncrypt(t, testKey, testIV, padded(`{"watermark":{"appid":"wxapp"}}x`), 0), testIV64},
		{"wrong key", b64(bytes.Repeat([]byte{1}, 16)), good, testIV64},
		{"official data, wrong key", testKey64, officialData, officialIV},
	}
	secrets := []string{testKey64, testIV64, officialSessionKey, officialIV, "hello", "openGId", "wxapp"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plain, err := DecryptData("wxapp", tt.key, tt.data, tt.iv)
			if !errors.Is(err, ErrDecrypt) || plain != nil {
				t.Fatalf("got %q, %v; want nil, ErrDecrypt", plain, err)
			}
			for _, s := range secrets {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q leaks %q", err, s)
				}
			}
		})
	}
	// The good ciphertext itself decrypts, so the cases above fail for their own reason.
	if _, err := DecryptData("wxapp", testKey64, good, testIV64); err != nil {
		t.Fatalf("control: %v", err)
	}
}

func TestUnpadPKCS7(t *testing.T) {
	tests := []struct {
		in   []byte
		want []byte
		ok   bool
	}{
		{append([]byte("abcdefghijklmno"), 1), []byte("abcdefghijklmno"), true},
		{bytes.Repeat([]byte{16}, 16), []byte{}, true},
		{append(bytes.Repeat([]byte{'a'}, 16), bytes.Repeat([]byte{16}, 16)...), bytes.Repeat([]byte{'a'}, 16), true},
		{nil, nil, false},
		{[]byte{1}, nil, false},
		{append(bytes.Repeat([]byte{'a'}, 15), 0), nil, false},
		{append(bytes.Repeat([]byte{'a'}, 15), 17), nil, false},
		{append(bytes.Repeat([]byte{'a'}, 13), 2, 3, 3), nil, false},
	}
	for i, tt := range tests {
		got, ok := unpadPKCS7(tt.in)
		if ok != tt.ok || !bytes.Equal(got, tt.want) {
			t.Errorf("%d: unpad(%v) = %v, %v; want %v, %v", i, tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestDecryptGroupInfo(t *testing.T) {
	tests := []struct {
		name  string
		plain string
		want  GroupInfo
	}{
		{"getShareInfo openGId", `{"openGId":"tG-share","watermark":{"appid":"wxapp","timestamp":1700000000}}`,
			GroupInfo{OpenGID: "tG-share", Timestamp: 1700000000}},
		{"getGroupEnterInfo opengid", `{"opengid":"tG-enter","watermark":{"appid":"wxapp","timestamp":1700000001}}`,
			GroupInfo{OpenGID: "tG-enter", Timestamp: 1700000001}},
		{"getChatToolInfo group", `{"opengid":"tG-tool","open_single_roomid":"","group_openid":"u-in-g","chat_type":3,"watermark":{"appid":"wxapp","timestamp":2}}`,
			GroupInfo{OpenGID: "tG-tool", GroupOpenID: "u-in-g", ChatType: 3, Timestamp: 2}},
		{"getChatToolInfo single chat", `{"open_single_roomid":"room1","group_openid":"u-in-r","chat_type":1,"watermark":{"appid":"wxapp","timestamp":3}}`,
			GroupInfo{OpenSingleRoomID: "room1", GroupOpenID: "u-in-r", ChatType: 1, Timestamp: 3}},
		{"both spellings prefer opengid", `{"openGId":"old","opengid":"new","watermark":{"appid":"wxapp"}}`,
			GroupInfo{OpenGID: "new"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := testEncrypt(t, testKey, testIV, []byte(tt.plain), -1)
			got, err := DecryptGroupInfo("wxapp", testKey64, data, testIV64)
			if err != nil {
				t.Fatalf("DecryptGroupInfo: %v", err)
			}
			if *got != tt.want {
				t.Errorf("got %+v, want %+v", *got, tt.want)
			}
		})
	}
}

func TestDecryptGroupInfoErrors(t *testing.T) {
	tests := []struct{ name, plain string }{
		{"no group id", `{"watermark":{"appid":"wxapp"}}`},
		{"only group_openid", `{"group_openid":"u","watermark":{"appid":"wxapp"}}`},
		{"empty ids", `{"opengid":"","openGId":"","watermark":{"appid":"wxapp"}}`},
		{"chat_type not a number", `{"opengid":"g","chat_type":"3","watermark":{"appid":"wxapp"}}`},
		{"wrong appid", `{"opengid":"g","watermark":{"appid":"wxother"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := testEncrypt(t, testKey, testIV, []byte(tt.plain), -1)
			g, err := DecryptGroupInfo("wxapp", testKey64, data, testIV64)
			if !errors.Is(err, ErrDecrypt) || g != nil {
				t.Fatalf("got %+v, %v; want nil, ErrDecrypt", g, err)
			}
			if strings.Contains(err.Error(), `"`) {
				t.Errorf("error %q may quote plaintext", err)
			}
		})
	}
	// The official example is user info: it has no group id.
	if _, err := DecryptGroupInfo(officialAppID, officialSessionKey, officialData, officialIV); !errors.Is(err, ErrDecrypt) {
		t.Errorf("official user info as group info: err = %v, want ErrDecrypt", err)
	}
}
