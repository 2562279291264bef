package ui_test

import (
	"bufio"
	"context"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestEventStreamViewersShareOneFeed connects 200 viewers to /events with
// real HTTP connections and checks that they cost the engine one
// subscription, not one each, that every viewer gets the id of a commit,
// that the memory held per viewer stays small, and that nothing is left
// once they are gone.
func TestEventStreamViewersShareOneFeed(t *testing.T) {
	t.Parallel()
	const viewers = 200
	f := newFixture(t).seed()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: viewers, MaxConnsPerHost: viewers}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	before := heapInUse()
	messages := make(chan string, 2*viewers)
	for range viewers {
		req, _ := http.NewRequestWithContext(ctx, "GET", f.srv.URL+"/events", nil)
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		go func() {
			sc := bufio.NewScanner(res.Body)
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "data: ") {
					messages <- sc.Text()
				}
			}
		}()
	}
	receive := func(want string) {
		t.Helper()
		for i := range viewers {
			select {
			case m := <-messages:
				if m != want {
					t.Fatalf("viewer message %q, want %q", m, want)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("only %d of %d viewers got %q", i, viewers, want)
			}
		}
	}
	receive("data: 13")
	if n := f.eng.Subscribers(); n != 1 {
		t.Errorf("%d viewers hold %d subscriptions in the engine, want 1", viewers, n)
	}
	perViewer := (heapInUse() - before) / viewers
	t.Logf("heap in use per connected viewer (both ends of the connection, and this test's reader): %d bytes", perViewer)
	if perViewer > 64<<10 {
		t.Errorf("each viewer holds %d bytes; want at most 64 KiB", perViewer)
	}
	f.release("cart", 2, "2.1.0", "shop", "", "")
	receive("data: 14")
	cancel()
	f.h.Close()
	deadline := time.Now().Add(10 * time.Second)
	for f.eng.Subscribers() != 0 && time.Now().Before(deadline) {
		runtime.Gosched()
	}
	if n := f.eng.Subscribers(); n != 0 {
		t.Errorf("%d subscriptions left after the viewers left and Close", n)
	}
}

// heapInUse is the heap in use after a collection.
func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}
