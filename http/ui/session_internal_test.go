package ui

import (
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestFlashOfAnyTextFitsACookie cuts a flash message to maxFlashLength
// characters, so that even four-byte characters keep the signed cookie
// under the 4 KiB a browser keeps, and the next page shows the message.
func TestFlashOfAnyTextFitsACookie(t *testing.T) {
	t.Parallel()
	h := NewHandler(nil, Options{CSRFKey: []byte("test key")})
	for _, message := range []string{strings.Repeat("x", 5000), strings.Repeat("😀", 5000), strings.Repeat("é", 5000)} {
		rec := httptest.NewRecorder()
		h.setFlash(rec, httptest.NewRequest("POST", "/ui/envs/staging/train", nil), flashError, message)
		cookies := rec.Result().Cookies()
		if len(cookies) != 1 {
			t.Fatalf("got %d cookies, want the flash", len(cookies))
		}
		if n := len(cookies[0].Name) + 1 + len(cookies[0].Value); n > 4096 {
			t.Errorf("a flash of %q… is a cookie of %d bytes; browsers keep 4096", message[:8], n)
		}
		next := httptest.NewRequest("GET", "/envs/staging", nil)
		next.AddCookie(cookies[0])
		f := h.takeFlash(httptest.NewRecorder(), next)
		if f == nil || utf8.RuneCountInString(f.Message) != maxFlashLength || !strings.HasSuffix(f.Message, "…") {
			t.Errorf("the next page shows %v, want the message cut to %d characters", f, maxFlashLength)
		}
	}
}
