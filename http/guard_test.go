package http

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	railyard "github.com/railyard-cd/railyard"
)

// The guard's tests run a real server on 127.0.0.1 with short timeouts,
// and talk to it over raw TCP where a Go client would not misbehave:
// bodies that trickle or stall, announcements that lie, readers that
// stop reading.

// rawConn is a raw TCP connection to a test server.
type rawConn struct {
	t    testing.TB
	conn net.Conn
	br   *bufio.Reader
}

// dial opens a raw connection, closed at the end of the test.
func (ts *testServer) dial() *rawConn {
	ts.t.Helper()
	c, err := net.Dial("tcp", ts.http.Listener.Addr().String())
	if err != nil {
		ts.t.Fatal(err)
	}
	ts.t.Cleanup(func() { c.Close() })
	return &rawConn{t: ts.t, conn: c, br: bufio.NewReader(c)}
}

// send writes s; an error means the server closed the connection.
func (c *rawConn) send(s string) error {
	_, err := io.WriteString(c.conn, s)
	return err
}

// head returns the request line and headers of a request with a body of
// the announced length.
func head(method, path, contentType string, length int64) string {
	return fmt.Sprintf("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", method, path, contentType, length)
}

// response reads one answer, waiting at most limit.
func (c *rawConn) response(limit time.Duration) (*nethttp.Response, []byte) {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(limit))
	resp, err := nethttp.ReadResponse(c.br, nil)
	if err != nil {
		c.t.Fatalf("no answer within %s: %v", limit, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("read the answer: %v", err)
	}
	return resp, body
}

// closed waits at most limit for the server to close the connection.
func (c *rawConn) closed(limit time.Duration) error {
	_ = c.conn.SetReadDeadline(time.Now().Add(limit))
	b, err := c.br.ReadByte()
	switch {
	case err == nil:
		return fmt.Errorf("the server sent %q instead of closing", b)
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET):
		return nil
	}
	return fmt.Errorf("the connection is still open: %w", err)
}

// trickle sends one byte of body every interval until stop is closed or
// the server closes the connection.
func (c *rawConn) trickle(interval time.Duration, stop <-chan struct{}) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			if c.send(" ") != nil {
				return
			}
		}
	}
}

// waitFor waits at most limit for cond, checking it every millisecond.
func waitFor(t testing.TB, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, limit)
		}
		<-tick.C
	}
}

// wantGuardError checks a raw answer: status, the error JSON's code and
// field.
func wantGuardError(t testing.TB, resp *nethttp.Response, body []byte, status int, code, field string) {
	t.Helper()
	a := answer{status: resp.StatusCode, header: resp.Header, body: body}
	a.wantError(t, status, code, field)
}

func TestGuard_SlowBodiesAreAnswered408(t *testing.T) {
	t.Parallel()
	const timeout = 500 * time.Millisecond
	ts := newTestServer(t, Options{BodyTimeout: timeout, MinBodyRate: 1000})
	ts.seedEnvironments()
	before := ts.state()
	cases := []struct {
		name, method, path, contentType string
		length                          int64
		first                           string
		// trickle sends a byte every 100 ms (10 bytes/s, far below the
		// 1000 bytes/s the server wants); otherwise the body stalls.
		trickle bool
	}{
		{"JSON API, trickled at 10 bytes/s", "PUT", "/api/v1/environments/qa", "application/json", 1000, "{", true},
		{"JSON API announcing 64 MiB, 1 byte sent", "POST", "/api/v1/applications/checkout/releases", "application/json", 64 << 20, "{", false},
		{"Kuberpult multipart announcing 64 MiB", "POST", "/release", "multipart/form-data; boundary=b", 64 << 20,
			"--b\r\nContent-Disposition: form-data; name=\"application\"\r\n\r\nche", true},
		{"batch", "POST", "/api/v1/batch", "application/json", 4000, `{"commands": [`, true},
		// 3,000 bytes at once fill six windows' quota; a rate averaged
		// since the start would then allow a stall of three seconds.
		{"fast start, then stalled", "PUT", "/api/v1/environments/qa", "application/json", 8000, "{" + strings.Repeat(" ", 2999), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			conn := ts.dial()
			stop := make(chan struct{})
			defer close(stop)
			start := time.Now()
			if err := conn.send(head(c.method, c.path, c.contentType, c.length) + c.first); err != nil {
				t.Fatal(err)
			}
			if c.trickle {
				go conn.trickle(100*time.Millisecond, stop)
			}
			resp, body := conn.response(timeout + 5*time.Second)
			took := time.Since(start)
			wantGuardError(t, resp, body, 408, codeRequestTimeout, "body")
			if took < timeout {
				t.Errorf("answered after %s, before the body timeout of %s", took, timeout)
			}
			if err := conn.closed(2 * time.Second); err != nil {
				t.Errorf("after the 408: %v", err)
			}
			t.Logf("answered 408 after %s", took.Round(time.Millisecond))
		})
	}
	// Meanwhile the server kept answering other clients.
	t.Run("other clients", func(t *testing.T) {
		t.Parallel()
		for range 5 {
			start := time.Now()
			_, err := ts.client.FindEnvironments(ctx)
			noErr(t, err)
			t.Logf("GET /api/v1/environments during the slow bodies: %s", time.Since(start).Round(time.Microsecond))
		}
	})
	t.Cleanup(func() {
		ts.unchanged(before)
		if held := ts.server.budget.held(); held != 0 {
			t.Errorf("the budget holds %d bytes after every request ended", held)
		}
	})
}

func TestGuard_SteadyUploadLongerThanTheTimeoutPasses(t *testing.T) {
	t.Parallel()
	// 1,000 bytes every 100 ms is five times the minimum rate: a body of
	// 16 KB takes 1.6 s, longer than the timeout, and passes, because
	// the timeout bounds a window of the body, not the whole body.
	const timeout = time.Second
	ts := newTestServer(t, Options{BodyTimeout: timeout, MinBodyRate: 2000})
	ts.seedEnvironments()
	parts := kuberpultForm()
	parts = append(parts, formPart{"manifests[production]", "production-manifest", manifestProd + "# " + strings.Repeat("x", 15000) + "\n"})
	ct, body := multipartBody(t, parts)
	conn := ts.dial()
	if err := conn.send(head("POST", "/release", ct, int64(len(body)))); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for rest := body; len(rest) > 0; <-tick.C {
		n := min(1000, len(rest))
		if err := conn.send(string(rest[:n])); err != nil {
			t.Fatalf("the server closed the connection after %s: %v", time.Since(start), err)
		}
		rest = rest[n:]
	}
	resp, answerBody := conn.response(10 * time.Second)
	if took := time.Since(start); resp.StatusCode != 201 || took < timeout {
		t.Fatalf("got %d after %s, want 201 after more than %s: %s", resp.StatusCode, took, timeout, answerBody)
	}
}

func TestGuard_IdleAndSlowHeaderConnectionsAreClosed(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	ts := newTestServer(t, Options{IdleTimeout: timeout, ReadHeaderTimeout: timeout})
	t.Run("idle keep-alive", func(t *testing.T) {
		t.Parallel()
		conn := ts.dial()
		if err := conn.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		if resp, body := conn.response(5 * time.Second); resp.StatusCode != 200 || resp.Close {
			t.Fatalf("got %d (close %v): %s", resp.StatusCode, resp.Close, body)
		}
		start := time.Now()
		if err := conn.closed(5 * time.Second); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took < timeout-50*time.Millisecond {
			t.Errorf("closed after %s, before the idle timeout of %s", took, timeout)
		}
	})
	t.Run("headers that never end", func(t *testing.T) {
		t.Parallel()
		conn := ts.dial()
		start := time.Now()
		if err := conn.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"); err != nil {
			t.Fatal(err)
		}
		if err := conn.closed(5 * time.Second); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took < timeout {
			t.Errorf("closed after %s, before the header timeout of %s", took, timeout)
		}
	})
}

// streamHandler answers /stream with ten lines 100 ms apart, and /flood
// with 32 KiB writes until one fails, reporting the failure on flooded.
type streamHandler struct {
	flooded chan error
}

func (h *streamHandler) ServeHTTP(w nethttp.ResponseWriter, r *nethttp.Request) {
	rc := nethttp.NewResponseController(w)
	switch r.URL.Path {
	case "/stream":
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for i := range 10 {
			<-tick.C
			fmt.Fprintf(w, "line %d\n", i)
			_ = rc.Flush()
		}
	case "/flood":
		chunk := make([]byte, 32<<10)
		for {
			if _, err := w.Write(chunk); err != nil {
				h.flooded <- err
				return
			}
		}
	}
}

func TestGuard_WriteDeadlineFollowsEachWrite(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	h := &streamHandler{flooded: make(chan error, 1)}
	ts := newTestServer(t, Options{WriteTimeout: timeout, UI: h})
	t.Run("a stream longer than the write timeout", func(t *testing.T) {
		t.Parallel()
		resp, err := ts.http.Client().Get(ts.http.URL + "/stream")
		noErr(t, err)
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		if err != nil || strings.Count(string(data), "\n") != 10 {
			t.Fatalf("got %q, %v; want ten lines over a second", data, err)
		}
	})
	t.Run("a client that stops reading", func(t *testing.T) {
		t.Parallel()
		conn := ts.dial()
		if err := conn.send("GET /flood HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		// Read nothing: the kernel's buffers fill, and the server's next
		// write must give up after the write timeout.
		select {
		case err := <-h.flooded:
			if !errors.Is(err, syscall.EPIPE) && !errors.Is(err, syscall.ECONNRESET) && !isTimeout(err) {
				t.Errorf("the write failed with %v, want a timeout", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the server still writes to a client that reads nothing after 20 s")
		}
	})
}

// isTimeout reports whether err is a deadline's.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// holdHandler reads a body whole, reports it on held and keeps it until
// release is closed: a handler that holds body memory.
type holdHandler struct {
	held    chan int
	release chan struct{}
}

func (h *holdHandler) ServeHTTP(w nethttp.ResponseWriter, r *nethttp.Request) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		nethttp.Error(w, err.Error(), 400)
		return
	}
	h.held <- len(data)
	<-h.release
	w.WriteHeader(204)
}

func TestGuard_BodyMemoryBudget(t *testing.T) {
	t.Parallel()
	const timeout = 500 * time.Millisecond
	hold := &holdHandler{held: make(chan int, 1), release: make(chan struct{})}
	ts := newTestServer(t, Options{MaxRequestBytes: 64 << 10, MaxBodyMemory: 64 << 10, BodyTimeout: timeout, UI: hold})
	before := ts.state()

	// A holds 60 KiB of the 64 KiB budget.
	aDone := make(chan int, 1)
	go func() {
		resp, err := ts.http.Client().Post(ts.http.URL+"/hold", "application/octet-stream", strings.NewReader(strings.Repeat("a", 60<<10)))
		if err != nil {
			aDone <- 0
			return
		}
		resp.Body.Close()
		aDone <- resp.StatusCode
	}()
	if n := <-hold.held; n != 60<<10 {
		t.Fatalf("A's handler read %d bytes", n)
	}
	if held := ts.server.budget.held(); held != 60<<10 {
		t.Fatalf("the budget holds %d bytes, want A's 61440", held)
	}

	// B needs 5 KiB more: it waits the body timeout, then gets 503.
	env := `{"upstream": {"latest": true}}` + strings.Repeat(" ", 5<<10)
	start := time.Now()
	a := ts.doJSON("PUT", "/api/v1/environments/qa", env)
	a.wantError(t, 503, codeUnavailable, "")
	if took := time.Since(start); took < timeout {
		t.Errorf("503 after %s, before the wait of %s", took, timeout)
	}
	if ra := a.header.Get("Retry-After"); ra != "1" {
		t.Errorf("Retry-After %q, want 1", ra)
	}
	ts.unchanged(before)

	// C waits too; A's end frees the memory, and C goes through.
	cDone := make(chan answer, 1)
	go func() { cDone <- ts.doJSON("PUT", "/api/v1/environments/qa", env) }()
	waitFor(t, "C waits for body memory", 5*time.Second, func() bool {
		ts.server.budget.mu.Lock()
		defer ts.server.budget.mu.Unlock()
		return ts.server.budget.waiters == 1
	})
	close(hold.release)
	if status := <-aDone; status != 204 {
		t.Fatalf("A: %d", status)
	}
	(<-cDone).wantStatus(t, 201)
	waitFor(t, "every request's bytes are released", 5*time.Second, func() bool { return ts.server.budget.held() == 0 })
}

// TestGuard_AnnouncedLengthIsNotAllocated is the attack of issue 10: 30
// connections announce 64 MiB and send one byte. The server allocated
// the announced size for each (2 GB); now the budget holds only the 30
// bytes received, and the heap does not grow by the announcements. Not
// parallel: it reads the process's allocation counter.
func TestGuard_AnnouncedLengthIsNotAllocated(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.seedEnvironments()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	const conns = 30
	for i := range conns {
		conn := ts.dial()
		path := "/api/v1/applications/checkout/releases"
		if i%2 == 1 {
			path = "/api/v1/batch"
		}
		if err := conn.send(head("POST", path, "application/json", 64<<20) + "{"); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "every connection's byte is read", 10*time.Second, func() bool { return ts.server.budget.held() == conns })
	runtime.ReadMemStats(&m1)
	if grew := m1.TotalAlloc - m0.TotalAlloc; grew > 16<<20 {
		t.Fatalf("the server allocated %d MiB for %d announcements of 64 MiB with one byte each; want little", grew>>20, conns)
	} else {
		t.Logf("%d connections announcing 64 MiB with 1 byte sent: %d KiB allocated, budget holds %d bytes", conns, grew>>10, ts.server.budget.held())
	}
}

func TestGuard_CrossSiteRequestsAreRefused(t *testing.T) {
	t.Parallel()
	fallback := &countingHandler{}
	ts := newTestServer(t, Options{UI: fallback})
	ts.seedEnvironments()
	ts.seedRelease(release(1))
	before := ts.state()
	ct, form := multipartBody(t, kuberpultForm())
	jsonCT := "application/json"
	requests := []struct {
		name, method, path, contentType, body string
	}{
		{"Kuberpult release", "POST", "/release", ct, string(form)},
		{"Kuberpult release under /api", "POST", "/api/release", ct, string(form)},
		{"environment", "PUT", "/api/v1/environments/qa", jsonCT, `{}`},
		{"deploy", "POST", "/api/v1/applications/checkout/environments/staging/deploy", jsonCT, `{"version": 1}`},
		{"lock", "PUT", "/api/v1/environments/staging/locks/l1", jsonCT, `{"message": "x"}`},
		{"Kuberpult lock", "PUT", "/environments/staging/locks/l1", jsonCT, `{"message": "x"}`},
		{"unlock", "DELETE", "/api/v1/environments/staging/locks/l1", jsonCT, ``},
		{"delete application", "DELETE", "/api/v1/applications/checkout", "", ``},
		{"batch", "POST", "/api/v1/batch", jsonCT, `{"commands": []}`},
		{"release train", "PUT", "/environments/production/releasetrain", jsonCT, ``},
		{"web UI form", "POST", "/ui/envs/staging/locks", "application/x-www-form-urlencoded", "message=x"},
	}
	browsers := []struct {
		name   string
		header map[string]string
		field  string
	}{
		{"cross-site", map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, "Sec-Fetch-Site"},
		{"same-site", map[string]string{"Origin": "https://ci.example.com", "Sec-Fetch-Site": "same-site"}, "Sec-Fetch-Site"},
		{"old browser, other origin", map[string]string{"Origin": "https://evil.example"}, "Origin"},
		{"old browser, null origin", map[string]string{"Origin": "null"}, "Origin"},
	}
	for _, rq := range requests {
		for _, b := range browsers {
			t.Run(rq.name+"/"+b.name, func(t *testing.T) {
				header := map[string]string{"Content-Type": rq.contentType}
				for k, v := range b.header {
					header[k] = v
				}
				e := ts.do(rq.method, rq.path, header, strings.NewReader(rq.body)).wantError(t, 403, railyard.EFORBIDDEN, b.field)
				if !strings.Contains(e.Message, "refused") || !strings.Contains(e.Message, "not browsers") {
					t.Errorf("message %q does not say why", e.Message)
				}
			})
		}
	}
	ts.unchanged(before)
	if n := fallback.count(); n != 0 {
		t.Fatalf("%d cross-site requests reached the web UI", n)
	}
	metrics := string(ts.do("GET", "/metrics", nil, nil).body)
	if want := fmt.Sprintf(`railyard_http_refused_requests_total{reason="cross_origin"} %d`, len(requests)*len(browsers)); !strings.Contains(metrics, want) {
		t.Errorf("the metrics do not count the refusals: no %s", want)
	}
}

func TestGuard_SameOriginAndNonBrowserRequestsPass(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Options{})
	ts.seedEnvironments()
	ct, form := multipartBody(t, kuberpultForm())
	host := strings.TrimPrefix(ts.http.URL, "http://")
	cases := []struct {
		name   string
		header map[string]string
	}{
		{"CI: neither header", nil},
		{"the UI's own page", map[string]string{"Origin": ts.http.URL, "Sec-Fetch-Site": "same-origin"}},
		{"typed into the address bar", map[string]string{"Sec-Fetch-Site": "none"}},
		{"old browser, same origin", map[string]string{"Origin": "http://" + host}},
	}
	for i, c := range cases {
		header := map[string]string{"Content-Type": "application/json"}
		for k, v := range c.header {
			header[k] = v
		}
		ts.do("PUT", "/api/v1/environments/qa"+strconv.Itoa(i), header, strings.NewReader(`{}`)).wantStatus(t, 201)
		header["Content-Type"] = ct
		want := 200 // the same release again
		if i == 0 {
			want = 201
		}
		ts.do("POST", "/release", header, strings.NewReader(string(form))).wantStatus(t, want)
	}
	// A page of another site may read nothing either, but a GET changes
	// nothing and passes the guard (the browser keeps the answer from
	// the page: no CORS headers).
	ts.do("GET", "/api/v1/environments", map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, nil).wantStatus(t, 200)
	// The Go client the CLI uses.
	_, err := ts.client.CreateLock(ctx, railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "staging", ID: "ci"}, Message: "CI"})
	noErr(t, err)
}

// countingHandler counts the requests that reach it and answers 204.
type countingHandler struct {
	mu sync.Mutex
	n  int
}

func (h *countingHandler) ServeHTTP(w nethttp.ResponseWriter, r *nethttp.Request) {
	h.mu.Lock()
	h.n++
	h.mu.Unlock()
	w.WriteHeader(204)
}

func (h *countingHandler) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

func TestGuard_AllowedHosts(t *testing.T) {
	t.Parallel()
	fallback := &countingHandler{}
	ts := newTestServer(t, Options{AllowedHosts: []string{"localhost", "*.localhost", "railyard.example.com"}, UI: fallback})
	cases := []struct {
		host string
		ok   bool
	}{
		{"localhost", true},
		{"localhost:8080", true},
		{"LocalHost.:8080", true},
		{"app.localhost:8080", true},
		{"railyard.example.com", true},
		{"127.0.0.1:8080", true},
		{"10.1.2.3", true},
		{"[::1]:8080", true},
		{"evil.example", false},
		{"evil.example:8080", false},
		{"localhost.evil.example", false},
		{"evillocalhost", false},
		{"example.com", false},
		{"x.railyard.example.com", false},
	}
	for _, c := range cases {
		req, err := nethttp.NewRequest("GET", ts.http.URL+"/api/v1/environments", nil)
		noErr(t, err)
		req.Host = c.host
		resp, err := ts.http.Client().Do(req)
		noErr(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !c.ok {
			e := answer{status: resp.StatusCode, header: resp.Header, body: body}.wantError(t, 403, railyard.EFORBIDDEN, "Host")
			if !strings.Contains(e.Message, "--allowed-hosts") {
				t.Errorf("the message %q does not say how to allow the host", e.Message)
			}
			continue
		}
		if resp.StatusCode != 200 {
			t.Errorf("Host %q: got %d, want 200: %s", c.host, resp.StatusCode, body)
		}
	}
	// The fallback (the web UI) is guarded too.
	req, _ := nethttp.NewRequest("GET", ts.http.URL+"/", nil)
	req.Host = "evil.example"
	resp, err := ts.http.Client().Do(req)
	noErr(t, err)
	resp.Body.Close()
	if resp.StatusCode != 403 || fallback.count() != 0 {
		t.Errorf("a rebound page reached the UI: %d, %d requests", resp.StatusCode, fallback.count())
	}
}

func TestReadyz(t *testing.T) {
	t.Parallel()
	t.Run("ready", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, Options{Ready: func(context.Context) error { return nil }})
		var st statusResponse
		ts.do("GET", "/readyz", nil, nil).wantStatus(t, 200).json(t, &st)
		if st != (statusResponse{Status: "ok"}) {
			t.Errorf("got %+v", st)
		}
	})
	t.Run("the server's check fails", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, Options{Ready: func(context.Context) error {
			return errors.New("the data directory cannot be written: no space left on device")
		}})
		ts.expectInternal = true
		var st statusResponse
		ts.do("GET", "/readyz", nil, nil).wantStatus(t, 503).json(t, &st)
		if want := (statusResponse{Status: "unavailable", Message: "the data directory cannot be written: no space left on device"}); st != want {
			t.Errorf("got %+v, want %+v", st, want)
		}
		if !strings.Contains(ts.log.String(), "readiness check failed") {
			t.Errorf("not logged:\n%s", ts.log.String())
		}
	})
	t.Run("the database is closed", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, Options{})
		ts.expectInternal = true
		noErr(t, ts.db.Close())
		ts.dbClosed = true
		var st statusResponse
		ts.do("GET", "/readyz", nil, nil).wantStatus(t, 503).json(t, &st)
		if want := (statusResponse{Status: "unavailable", Message: "the database does not answer a read (the log has the cause)"}); st != want {
			t.Errorf("got %+v, want %+v", st, want)
		}
	})
}
