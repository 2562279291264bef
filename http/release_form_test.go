package http

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	railyard "github.com/railyard-cd/railyard"
)

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func TestParseRelease(t *testing.T) {
	ct, body := multipartBody(t, kuberpultForm())
	form, err := parseRelease(ct, bytes.NewReader(body), 1<<20, 1<<20)
	noErr(t, err)
	r := form.Release
	if r.Application != "checkout" || r.Version != 12 || r.Team != "payments" || r.SourceCommitID != commitA ||
		r.SourceAuthor != "Bob <bob@example.com>" || r.DisplayVersion != "1.4.2" || r.CILink != "https://ci.example.com/build/12" ||
		r.Manifests["development"] != manifestDev || r.Manifests["staging"] != manifestStg || len(r.Manifests) != 2 || len(form.Signatures) != 0 {
		t.Fatalf("got %+v", r)
	}
}

func TestParseRelease_StopsReadingAtTheLimit(t *testing.T) {
	// An endless body: the parser must give up after the total limit
	// instead of reading (or buffering) it all.
	head := "--b\r\nContent-Disposition: form-data; name=\"manifests[staging]\"\r\n\r\n"
	body := &countingReader{r: io.MultiReader(strings.NewReader(head), endless{})}
	_, err := parseRelease("multipart/form-data; boundary=b", body, 1<<30, 64<<10)
	wantError(t, err, railyard.ETOOLARGE, "body")
	if body.n > 64<<10+1 {
		t.Fatalf("read %d bytes, want at most the limit + 1", body.n)
	}
	body = &countingReader{r: io.MultiReader(strings.NewReader(head), endless{})}
	_, err = parseRelease("multipart/form-data; boundary=b", body, 1000, 1<<30)
	wantError(t, err, railyard.ETOOLARGE, "manifests[staging]")
	if body.n > 64<<10 {
		t.Fatalf("read %d bytes for a manifest limit of 1000, want little more than that", body.n)
	}
}

// endless is a reader of 'a's that never ends.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

// Limits of the fuzz target: small, so that inputs reach them.
const (
	fuzzMaxManifest = 256
	fuzzMaxTotal    = 4096
)

func FuzzParseRelease(f *testing.F) {
	ct, body := multipartBody(f, kuberpultForm())
	f.Add(ct, body)
	ct, body = multipartBody(f, []formPart{{"application", "", "a"}, {"manifests[dev]", "f", "a: b\n"}, {"signatures[dev]", "s", "sig"}, {"version", "", "3"}})
	f.Add(ct, body)
	ct, body = multipartBody(f, []formPart{{"application", "", "a"}, {"application", "", "b"}})
	f.Add(ct, body)
	f.Add("multipart/form-data; boundary=b", []byte("--b\r\nContent-Disposition: form-data; name=\"application\"\r\n\r\napp\r\n--b--\r\n"))
	f.Add("multipart/form-data; boundary=b", []byte("--b\r\nContent-Disposition: form-data; name=\"manifests[x]\"\r\n\r\n"+strings.Repeat("y", 300)+"\r\n--b--\r\n"))
	f.Add("text/plain", []byte("hello"))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		counter := &countingReader{r: bytes.NewReader(body)}
		form, err := parseRelease(contentType, counter, fuzzMaxManifest, fuzzMaxTotal)
		if counter.n > fuzzMaxTotal+1 {
			t.Fatalf("read %d bytes, more than the limit %d + 1", counter.n, fuzzMaxTotal)
		}
		if err != nil {
			e := railyard.AsError(err)
			if e == nil {
				t.Fatalf("got %T %v, want a *railyard.Error", err, err)
			}
			switch e.Code {
			case railyard.EINVALID, railyard.ETOOLARGE, railyard.EUNSUPPORTED:
			default:
				t.Fatalf("got code %q (%s), want invalid, too_large or unsupported", e.Code, e.Message)
			}
			if form != nil {
				t.Fatalf("got a form with an error")
			}
			return
		}
		checkParsedForm(t, form)
	})
}

// checkParsedForm checks the invariants of a successfully parsed form.
func checkParsedForm(t *testing.T, form *releaseForm) {
	t.Helper()
	r := form.Release
	if r.Application == "" || r.Version < 0 {
		t.Fatalf("got application %q version %d", r.Application, r.Version)
	}
	total := 0
	for env, m := range r.Manifests {
		if len(m) > fuzzMaxManifest {
			t.Fatalf("manifests[%s] is %d bytes, over the limit %d", env, len(m), fuzzMaxManifest)
		}
		if !utf8.ValidString(m) {
			t.Fatalf("manifests[%s] is not UTF-8", env)
		}
		total += len(m)
	}
	if total > fuzzMaxTotal {
		t.Fatalf("manifests hold %d bytes, over the total limit %d", total, fuzzMaxTotal)
	}
	for _, s := range []string{r.Application, r.Team, r.SourceCommitID, r.SourceAuthor, r.SourceMessage, r.SourceBranch, r.DisplayVersion, r.CILink} {
		if !utf8.ValidString(s) {
			t.Fatalf("text %q is not UTF-8", s)
		}
	}
}
