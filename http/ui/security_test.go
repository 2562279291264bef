package ui_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestRedirectsStayOnTheSite sends the identity form, and a lock deletion,
// with "next" values that try to leave the site. Browsers drop tabs and
// newlines from a Location, read "\" as "/" and skip leading blanks, so
// each of these would reach evil.example if it were followed as given.
func TestRedirectsStayOnTheSite(t *testing.T) {
	t.Parallel()
	f := newFixture(t).seed()
	bypasses := []string{
		"/\t/evil.example",   // next=/%09/evil.example: the case of issue 10
		"/\n/evil.example",   // newline
		"/\r/evil.example",   // carriage return
		"/\t\t/evil.example", // several
		"//evil.example",
		"///evil.example",
		"/\\evil.example",
		"\\/evil.example",
		"\\\\evil.example",
		"/\\/evil.example",
		" /evil.example",
		"/ /evil.example",
		"\t//evil.example",
		"https://evil.example/",
		"http:evil.example",
		"//evil.example/%2F..",
		"javascript:alert(1)",
		"data:text/html,<script>alert(1)</script>",
		"evil.example",
		"/\u00a0/evil.example", // no-break space
		"/\u3000/evil.example", // ideographic space
		"/\u200b/evil.example", // zero-width space
		"/\uff0fevil.example",  // fullwidth solidus
		"/\x00/evil.example",
		"/\x7f/evil.example",
		"",
	}
	c := f.client().identify(alice)
	for _, next := range bypasses {
		res := c.post("/ui/identity", url.Values{"name": {"Alice Example"}, "email": {"alice@example.com"}, "next": {next}})
		wantStatus(t, "identity with next "+strconv.Quote(next), res, http.StatusSeeOther)
		if loc := res.header.Get("Location"); loc != "/" {
			t.Errorf("next %s: redirected to %q, want /", strconv.Quote(next), loc)
		}
		res = c.post("/ui/locks/delete", url.Values{"kind": {"environment"}, "env": {"staging"}, "id": {"nothing"}, "next": {next}})
		wantStatus(t, "lock deletion with next "+strconv.Quote(next), res, http.StatusSeeOther)
		if loc := res.header.Get("Location"); loc != "/locks" {
			t.Errorf("lock deletion, next %s: redirected to %q, want /locks", strconv.Quote(next), loc)
		}
	}
	// The identity page carries next into its form only when it is local.
	body := c.get("/ui/identity?next=/%09/evil.example").body
	wantContains(t, "identity page with a foreign next", body, `<input type="hidden" name="next" value="/">`)
	// Plain local paths, with query and fragment, are kept.
	for _, next := range []string{"/apps/checkout#env-staging", "/?team=shop&q=che", "/history?before=12", "/envs/staging"} {
		res := c.post("/ui/identity", url.Values{"name": {"Alice Example"}, "email": {"alice@example.com"}, "next": {next}})
		if loc := res.header.Get("Location"); loc != next {
			t.Errorf("next %q: redirected to %q", next, loc)
		}
	}
}

// assetRE finds the assets a page loads.
var assetRE = regexp.MustCompile(`(?:href|src)="(/static/[^"]+)"`)

// TestSecurityHeaders checks the headers of every kind of UI answer:
// pages, error pages, assets, the event stream's first answer aside.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	f := newFixture(t).seed()
	c := f.client()
	want := map[string]string{
		"Content-Security-Policy":    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
		"X-Content-Type-Options":     "nosniff",
		"Referrer-Policy":            "same-origin",
		"X-Frame-Options":            "DENY",
		"Cross-Origin-Opener-Policy": "same-origin",
	}
	overview := c.get("/")
	paths := []string{"/", "/apps/checkout", "/envs/staging", "/locks", "/history", "/ui/identity", "/no-such-page"}
	for _, m := range assetRE.FindAllStringSubmatch(overview.body, -1) {
		paths = append(paths, m[1])
	}
	for _, p := range paths {
		res := c.get(p)
		for k, v := range want {
			if got := res.header.Get(k); got != v {
				t.Errorf("GET %s: %s = %q, want %q", p, k, got, v)
			}
		}
	}
	// No page holds what the policy would block: inline scripts, inline
	// styles, event handler attributes, javascript: URLs.
	for _, p := range paths[:7] {
		body := c.get(p).body
		for _, bad := range []string{"<script>", "<style", " style=", "javascript:", " onclick=", " onload=", " onchange=", " onsubmit="} {
			if strings.Contains(body, bad) {
				t.Errorf("GET %s holds %q, which the Content-Security-Policy blocks", p, bad)
			}
		}
	}
}
