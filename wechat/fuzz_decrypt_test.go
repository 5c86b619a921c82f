package wechat

import (
	"errors"
	"strings"
	"testing"
)

// FuzzDecryptData feeds DecryptData arbitrary client input. It must never
// panic, every failure must wrap ErrDecrypt without echoing the key or iv,
// and success needs a plaintext that names the app.
func FuzzDecryptData(f *testing.F) {
	f.Add(officialSessionKey, officialData, officialIV)
	f.Add("", "", "")
	f.Add(officialSessionKey, "", officialIV)
	f.Add(officialSessionKey, "AAAAAAAAAAAAAAAAAAAAAA==", officialIV)               // 16 zero bytes
	f.Add(officialSessionKey, "AAAAAAAAAAAAAAAAAAAAAAA=", officialIV)               // 17 bytes
	f.Add(officialSessionKey, "AAAAAAAAAAAAAAAAAAAA", officialIV)                   // 15 bytes
	f.Add("AAAAAAAAAAAAAAAAAAAA", officialData, officialIV)                         // 15-byte key
	f.Add(officialSessionKey, officialData, "AAAAAAAAAAAAAAAAAAAAAAA=")             // 17-byte iv
	f.Add(officialSessionKey, strings.TrimRight(officialData, "="), officialIV)     // no padding
	f.Add(officialSessionKey, officialData[:len(officialData)-24]+"==", officialIV) // truncated
	f.Add(" "+officialSessionKey+"\n", officialData, officialIV)                    // whitespace
	f.Add(testKey64, testEncrypt(f, testKey, testIV, []byte(`{"watermark":{"appid":"wx4f4bc4dec97d474b"}}`), -1), testIV64)
	f.Add(testKey64, testEncrypt(f, testKey, testIV, []byte("null\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c"), 0), testIV64)

	f.Fuzz(func(t *testing.T, key, data, iv string) {
		plain, err := DecryptData(officialAppID, key, data, iv)
		if err != nil {
			if !errors.Is(err, ErrDecrypt) || plain != nil {
				t.Fatalf("got %q, %v; want nil and ErrDecrypt", plain, err)
			}
			msg := err.Error()
			for _, s := range []string{key, iv} {
				if s = strings.TrimSpace(s); len(s) >= 8 && strings.Contains(msg, s) {
					t.Fatalf("error %q echoes input %q", msg, s)
				}
			}
			return
		}
		if !strings.Contains(string(plain), officialAppID) {
			t.Fatalf("accepted plaintext without the appid: %q", plain)
		}
		_, _ = DecryptGroupInfo(officialAppID, key, data, iv)
	})
}
