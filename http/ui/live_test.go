package ui_test

import (
	"bufio"
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	railyard "github.com/railyard-cd/railyard"
)

func TestStaticAssetsAreHashedAndImmutable(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	page := c.get("/").body
	for _, name := range []string{"app.css", "app.js", "favicon.svg"} {
		m := regexp.MustCompile(`/static/([0-9a-f]{16})/` + regexp.QuoteMeta(name)).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("the page does not link %s under a content hash", name)
		}
		res := c.get(m[0])
		wantStatus(t, m[0], res, http.StatusOK)
		if got := res.header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
			t.Errorf("%s: Cache-Control %q", name, got)
		}
		wantStatus(t, "an old hash", c.get("/static/0000000000000000/"+name), http.StatusNotFound)
	}
	wantStatus(t, "an unknown asset", c.get("/static/0000000000000000/nope.js"), http.StatusNotFound)
}

func TestPagesAreCompressedAndLiveRequestsGetTheLiveRegion(t *testing.T) {
	f := newFixture(t).seed()
	req, _ := http.NewRequest("GET", f.srv.URL+"/", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("Content-Encoding %q, want gzip", res.Header.Get("Content-Encoding"))
	}
	c := f.client()
	req, _ = http.NewRequest("GET", f.srv.URL+"/?team=shop", nil)
	req.Header.Set("X-Railyard-Live", "1")
	live := c.do(req)
	wantStatus(t, "live refresh", live, http.StatusOK)
	if !strings.HasPrefix(live.body, `<div id="live"`) || strings.Contains(live.body, "<html") {
		t.Errorf("a live refresh should answer the live region only:\n%s", railyard.Truncate(live.body, 300))
	}
	wantContains(t, "live refresh", live.body, "Showing 1 of 3 applications")
}

// TestEventStream checks the stream: the current event id at once, one
// message per commit, and the handler ends when the client goes away.
func TestEventStream(t *testing.T) {
	f := newFixture(t).seed()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", f.srv.URL+"/events", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "data: ") {
				lines <- sc.Text()
			}
		}
	}()
	next := func() string {
		select {
		case l := <-lines:
			return l
		case <-time.After(5 * time.Second):
			t.Fatal("no message within 5 s")
			return ""
		}
	}
	if got := next(); got != "data: 13" {
		t.Errorf("first message %q, want the current event id 13", got)
	}
	f.release("cart", 2, "2.1.0", "shop", "", "")
	if got := next(); got != "data: 14" {
		t.Errorf("after a release: %q, want data: 14", got)
	}
	cancel()
	for range lines { // the stream ends
	}
}

// TestEventStreamEndsOnClose checks that Close ends open streams, so a
// server shutting down does not wait for them.
func TestEventStreamEndsOnClose(t *testing.T) {
	f := newFixture(t)
	res, err := http.Get(f.srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	done := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
		}
		close(done)
	}()
	f.h.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the stream did not end after Close")
	}
}
