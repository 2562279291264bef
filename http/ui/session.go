package ui

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"

	railyard "github.com/railyard-cd/railyard"
)

// Cookie names. The UI keeps no server-side session: the CSRF secret, the
// identity and the flash message each live in a cookie of their own.
const (
	csrfCookie  = "railyard_csrf"
	actorCookie = "railyard_actor"
	flashCookie = "railyard_flash"
)

// csrfToken returns the token forms carry: an HMAC of the browser's random
// CSRF cookie under the handler's key (a "signed double-submit cookie").
// Another site can make the browser send the cookie but can neither read
// it nor compute the token. The cookie is set when the browser has none.
func (h *Handler) csrfToken(w http.ResponseWriter, r *http.Request) string {
	secret := ""
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 32 {
		secret = c.Value
	} else {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		secret = base64.RawURLEncoding.EncodeToString(b)
		http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: secret, Path: "/", HttpOnly: true,
			SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil, MaxAge: 365 * 24 * 3600})
		// A POST in the same request must see the new cookie too.
		r.AddCookie(&http.Cookie{Name: csrfCookie, Value: secret})
	}
	return h.sign("csrf", secret)
}

// validCSRF checks the form's token against the browser's CSRF cookie.
func (h *Handler) validCSRF(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil || len(c.Value) < 32 {
		return false
	}
	got := r.PostForm.Get("csrf")
	want := h.sign("csrf", c.Value)
	return hmac.Equal([]byte(got), []byte(want))
}

// sign returns the base64 HMAC-SHA256 of purpose and value under the key.
func (h *Handler) sign(purpose, value string) string {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// readActor returns the identity the browser gave, or nil. The cookie is
// not signed: until authentication exists, people say who they are.
func readActor(r *http.Request) *railyard.Actor {
	c, err := r.Cookie(actorCookie)
	if err != nil {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return nil
	}
	var a railyard.Actor
	if json.Unmarshal(b, &a) != nil || a.Validate() != nil {
		return nil
	}
	return &a
}

// writeActor stores the identity for a year.
func writeActor(w http.ResponseWriter, r *http.Request, a railyard.Actor) {
	b, _ := json.Marshal(a)
	http.SetCookie(w, &http.Cookie{Name: actorCookie, Value: base64.RawURLEncoding.EncodeToString(b), Path: "/",
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil, MaxAge: 365 * 24 * 3600})
}

// Flash kinds.
const (
	flashSuccess = "success"
	flashError   = "error"
)

// flash is a message for the page an action redirects to.
type flash struct {
	Kind    string `json:"k"`
	Message string `json:"m"`
}

// maxFlashLength bounds a flash message, in characters: at most 2,800
// bytes of UTF-8, so that the signed cookie stays under the 4 KiB a
// browser keeps.
const maxFlashLength = 700

// setFlash stores a signed flash message for the next page.
func (h *Handler) setFlash(w http.ResponseWriter, r *http.Request, kind, message string) {
	b, _ := json.Marshal(flash{Kind: kind, Message: railyard.Truncate(message, maxFlashLength)})
	v := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: v + "." + h.sign("flash", v), Path: "/",
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil, MaxAge: 300})
}

// takeFlash returns the flash message and deletes its cookie.
func (h *Handler) takeFlash(w http.ResponseWriter, r *http.Request) *flash {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return nil
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1})
	v, sig, ok := strings.Cut(c.Value, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(h.sign("flash", v))) {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return nil
	}
	var f flash
	if json.Unmarshal(b, &f) != nil || f.Message == "" {
		return nil
	}
	if f.Kind != flashError {
		f.Kind = flashSuccess
	}
	return &f
}
