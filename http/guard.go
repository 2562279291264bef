package http

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	nethttp "net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	railyard "github.com/railyard-cd/railyard"
)

// Default limits of slow and large requests (docs/security.md explains
// each).
const (
	// DefaultMaxBodyMemory is the default budget of request body bytes
	// all requests together may hold: two requests of the largest size.
	DefaultMaxBodyMemory = 2 * DefaultMaxRequestBytes
	// DefaultBodyTimeout is the default window in which a request body
	// must deliver MinBodyRate × BodyTimeout bytes (or end), and the
	// longest a request waits for body memory.
	DefaultBodyTimeout = 10 * time.Second
	// DefaultMinBodyRate is the default minimum rate of a request body,
	// in bytes per second: a 64 MiB upload passes over any link faster
	// than 256 kbit/s.
	DefaultMinBodyRate = 32 << 10
	// DefaultReadHeaderTimeout is the default time a client has to send
	// a request's headers.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultWriteTimeout is the default time one write of a response may
	// block on a client that does not read.
	DefaultWriteTimeout = 30 * time.Second
	// DefaultIdleTimeout is the default time a keep-alive connection may
	// wait for its next request.
	DefaultIdleTimeout = 60 * time.Second
)

// bodyChunk bounds one read of a request body, so that the budget is
// taken in steps of at most this size whatever buffer the reader offers.
const bodyChunk = 32 << 10

// Codes of the errors the guard answers. They are not domain codes: only
// the HTTP edge can say that a body came too slowly or that the server
// has no memory for it now.
const (
	codeRequestTimeout = "request_timeout"
	codeUnavailable    = "unavailable"
)

// Reasons a request is refused, the label of railyard_http_refused_requests_total.
const (
	refusedHost        = "host"
	refusedCrossOrigin = "cross_origin"
	refusedBodyTimeout = "body_timeout"
	refusedBodyMemory  = "body_memory"
)

// Handler returns the server's root handler: the router (serveHTTP) with
// everything it routes to, the web UI and the Git server included,
// behind the guard.
func (s *Server) Handler() nethttp.Handler {
	return s.Guard(nethttp.HandlerFunc(s.serveHTTP))
}

// Guard wraps h in the protections every request to Railyard passes
// through, in this order: the Host header must name an allowed host
// (DNS rebinding); a state-changing request must not come from another
// site (Fetch Metadata and Origin); the request body must keep arriving
// at the minimum rate and is counted against the server-wide body memory
// budget; and every write of the answer must complete within the write
// timeout, however long the whole answer streams. Handler applies it to
// every request it routes: the API, the Kuberpult-compatible endpoints,
// the web UI and the built-in Git server. All guarded handlers of one
// Server share its budget.
func (s *Server) Guard(h nethttp.Handler) nethttp.Handler {
	return nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		dw := &deadlineWriter{ResponseWriter: w, rc: nethttp.NewResponseController(w), timeout: s.opts.WriteTimeout}
		// The answer is flushed after the handler returned: give that
		// last write a fresh deadline too.
		defer dw.extend()
		if err := s.checkHost(r); err != nil {
			s.refuse(dw, r, refusedHost, err)
			return
		}
		if err := s.checkCrossOrigin(r); err != nil {
			s.refuse(dw, r, refusedCrossOrigin, err)
			return
		}
		if r.Body != nil && r.Body != nethttp.NoBody {
			body := s.newGuardedBody(dw, r)
			defer body.release()
			r.Body, dw.body = body, body
		}
		h.ServeHTTP(dw, r)
	})
}

// guardStatuses are the error statuses the guard may answer on a route of
// method, for the OpenAPI document: 403 for a Host that is not allowed
// (and, on a state-changing method, for a request from another site); on
// a method with a body, 408 for a body too slow and 503 when body memory
// stays short.
func guardStatuses(method string) []int {
	switch method {
	case "GET", "HEAD", "OPTIONS":
		return []int{nethttp.StatusForbidden}
	}
	return []int{nethttp.StatusForbidden, nethttp.StatusRequestTimeout, nethttp.StatusServiceUnavailable}
}

// refuse answers a request the guard does not let through, and counts it.
func (s *Server) refuse(w nethttp.ResponseWriter, r *nethttp.Request, reason string, err error) {
	s.metrics.refused.WithLabelValues(reason).Inc()
	s.writeError(w, r, err)
}

// checkHost refuses a Host header that names a host the server does not
// answer to. A page on a DNS name its attacker controls can point that
// name at 127.0.0.1 once loaded (DNS rebinding) and then read and write
// the API as the same origin; the Host header still carries the
// attacker's name, which is what this refuses. IP addresses are always
// allowed: a browser sends one only for a page loaded from that very
// address, which rebinding cannot produce.
func (s *Server) checkHost(r *nethttp.Request) error {
	if len(s.opts.AllowedHosts) == 0 || r.Host == "" {
		return nil
	}
	host := hostName(r.Host)
	if net.ParseIP(host) != nil || hostAllowed(host, s.opts.AllowedHosts) {
		return nil
	}
	return railyard.Errorf(railyard.EFORBIDDEN, "host %q is not allowed: this server answers to %s and to IP addresses; "+
		"to use another name, add it to railyard serve --allowed-hosts", railyard.Truncate(host, 100), strings.Join(s.opts.AllowedHosts, ", ")).WithField("Host")
}

// hostName returns the host of a Host header without port, brackets and
// trailing dot, in lower case.
func hostName(hostport string) string {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimPrefix(strings.TrimSuffix(host, "]"), "[")
	return strings.ToLower(strings.TrimSuffix(host, "."))
}

// hostAllowed matches a host name against the allowed-hosts list: "*"
// allows any, "*.example.com" any name under example.com, anything else
// exactly that name.
func hostAllowed(host string, allowed []string) bool {
	for _, a := range allowed {
		a = strings.ToLower(strings.TrimSuffix(a, "."))
		switch {
		case a == "*", a == host:
			return true
		case strings.HasPrefix(a, "*.") && strings.HasSuffix(host, a[1:]):
			return true
		}
	}
	return false
}

// checkCrossOrigin refuses a state-changing request that a browser sent
// from another site, which the browser says with Sec-Fetch-Site or, in
// browsers from before 2023, with an Origin that is not this host.
// Clients that are not browsers (CI, the CLI, curl) send neither header
// and pass; so do GET, HEAD and OPTIONS, which change nothing.
func (s *Server) checkCrossOrigin(r *nethttp.Request) error {
	if s.crossOrigin.Check(r) == nil {
		return nil
	}
	origin := railyard.Truncate(r.Header.Get("Origin"), 100)
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return railyard.Errorf(railyard.EFORBIDDEN, "cross-site request refused: the browser sent it from another site (Sec-Fetch-Site: %s, Origin: %q); "+
			"Railyard takes changes only from its own pages and from clients that are not browsers", railyard.Truncate(site, 40), origin).WithField("Sec-Fetch-Site")
	}
	return railyard.Errorf(railyard.EFORBIDDEN, "cross-origin request refused: Origin %q is not this server (Host %q); "+
		"Railyard takes changes only from its own pages and from clients that are not browsers", origin, railyard.Truncate(r.Host, 100)).WithField("Origin")
}

// deadlineWriter gives each write of an answer its own deadline: a client
// that stops reading is cut off after the write timeout, while an answer
// that keeps flowing (a Git clone, the UI's event stream) may last as
// long as it flows.
type deadlineWriter struct {
	nethttp.ResponseWriter
	rc      *nethttp.ResponseController
	timeout time.Duration
	// set is when the deadline was last moved. It moves only once a
	// quarter of the timeout has passed (at most once a second), which
	// keeps the cost of a large answer's many writes low: each write
	// still has at least three quarters of the timeout.
	set time.Time
	// body is the request's guarded body, nil without one: when it
	// failed, the answer gets the headers that go with its error.
	body *guardedBody
}

// extend moves the write deadline to the write timeout from now.
func (w *deadlineWriter) extend() {
	now := time.Now()
	if now.Sub(w.set) < min(time.Second, w.timeout/4) {
		return
	}
	w.set = now
	// Writers that cannot take deadlines (a test's recorder) need none.
	_ = w.rc.SetWriteDeadline(now.Add(w.timeout))
}

// Write implements nethttp.ResponseWriter.
func (w *deadlineWriter) Write(p []byte) (int, error) {
	w.extend()
	return w.ResponseWriter.Write(p)
}

// WriteHeader implements nethttp.ResponseWriter.
func (w *deadlineWriter) WriteHeader(status int) {
	w.extend()
	if w.body != nil {
		w.body.annotate(w.Header())
	}
	w.ResponseWriter.WriteHeader(status)
}

// FlushError lets http.ResponseController flush through the writer.
func (w *deadlineWriter) FlushError() error {
	w.extend()
	return w.rc.Flush()
}

// SetWriteDeadline lets a handler set a deadline of its own (the event
// stream clears it); the next write sets it again.
func (w *deadlineWriter) SetWriteDeadline(t time.Time) error {
	w.set = time.Time{}
	return w.rc.SetWriteDeadline(t)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *deadlineWriter) Unwrap() nethttp.ResponseWriter { return w.ResponseWriter }

// guardedBody is a request body that must keep arriving and whose bytes
// are counted against the server's body memory budget until the request
// ends. The rule: in every window of BodyTimeout, the body delivers at
// least MinBodyRate × BodyTimeout bytes or ends; the first window starts
// when the handler is called. A read deadline at the window's end
// enforces it, so a stalled body costs no goroutine spinning and no
// timer per byte. A body that falls behind fails with a bodyTimeoutError,
// answered 408 and followed by closing the connection.
//
// Budget bytes are taken after they arrived, so the budget counts what
// was received, never what Content-Length announced. When it is
// exhausted the read waits up to BodyTimeout for other requests to end,
// then fails with a bodyMemoryError, answered 503 with Retry-After.
// Meanwhile nothing more is read from that client, so TCP flow control
// holds the rest of its body on the client's side.
//
// The body may be read on another goroutine than the handler's (the Git
// server's CGI handler copies it to git's standard input), so its
// failure reaches the answer's headers through failed, which the
// handler's writer reads when it writes the status.
type guardedBody struct {
	body   io.ReadCloser
	rc     *nethttp.ResponseController
	r      *nethttp.Request
	s      *Server
	quota  int64
	held   int64
	window struct {
		start time.Time
		bytes int64
	}
	err error
	// failed is the body's timeout or memory error, once there is one.
	failed atomic.Pointer[error]
}

// newGuardedBody wraps the body of r and starts its first window.
func (s *Server) newGuardedBody(w nethttp.ResponseWriter, r *nethttp.Request) *guardedBody {
	b := &guardedBody{body: r.Body, rc: nethttp.NewResponseController(w), r: r, s: s,
		quota: int64(float64(s.opts.MinBodyRate) * s.opts.BodyTimeout.Seconds())}
	b.newWindow()
	return b
}

// newWindow starts a window: its read deadline is BodyTimeout from now.
func (b *guardedBody) newWindow() {
	now := time.Now()
	b.window.start, b.window.bytes = now, 0
	_ = b.rc.SetReadDeadline(now.Add(b.s.opts.BodyTimeout))
}

// Read implements io.Reader.
func (b *guardedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if len(p) > bodyChunk {
		p = p[:bodyChunk]
	}
	n, err := b.body.Read(p)
	if n > 0 {
		if merr := b.take(int64(n)); merr != nil {
			b.err = merr
			return 0, merr
		}
		b.window.bytes += int64(n)
		if b.window.bytes >= b.quota {
			b.newWindow()
		}
	}
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		b.s.metrics.refused.WithLabelValues(refusedBodyTimeout).Inc()
		err = &bodyTimeoutError{quota: b.quota, timeout: b.s.opts.BodyTimeout, err: err}
		b.failed.Store(&err)
	}
	if err != nil {
		b.err = err
	}
	return n, err
}

// ended reports whether the body was read to its end.
func (b *guardedBody) ended() bool { return b.err == io.EOF }

// take counts n received bytes against the budget, waiting for room at
// most BodyTimeout; a wait starts a new window, since the time was the
// server's, not the client's.
func (b *guardedBody) take(n int64) error {
	waited, err := b.s.budget.acquire(b.r.Context(), n, b.s.opts.BodyTimeout)
	if err != nil {
		if errors.Is(err, errBudgetWait) {
			b.s.metrics.refused.WithLabelValues(refusedBodyMemory).Inc()
			var merr error = &bodyMemoryError{limit: b.s.budget.limit, wait: b.s.opts.BodyTimeout}
			b.failed.Store(&merr)
			return merr
		}
		return err
	}
	b.held += n
	if waited {
		b.newWindow()
	}
	return nil
}

// Close implements io.Closer.
func (b *guardedBody) Close() error { return b.body.Close() }

// annotate adds the headers that go with the body's failure: the
// connection closes after either (the rest of the body is not read), and
// a client refused for lack of memory learns when to try again.
func (b *guardedBody) annotate(h nethttp.Header) {
	failed := b.failed.Load()
	if failed == nil {
		return
	}
	h.Set("Connection", "close")
	var memory *bodyMemoryError
	if errors.As(*failed, &memory) {
		h.Set("Retry-After", strconv.Itoa(int(math.Ceil(memory.wait.Seconds()))))
	}
}

// release gives the body's bytes back to the budget when the request has
// ended: until then the handler may hold them. A body the handler did not
// read to its end (a refused request, a multipart epilogue) gets a fresh
// window for net/http to discard the rest: the last window may have run
// out while the handler worked, which would close a keep-alive
// connection for nothing.
func (b *guardedBody) release() {
	b.s.budget.release(b.held)
	b.held = 0
	if !b.ended() && b.failed.Load() == nil {
		b.newWindow()
	}
}

// bodyTimeoutError says that a request body arrived too slowly. It
// unwraps to the read deadline's error (os.ErrDeadlineExceeded).
type bodyTimeoutError struct {
	quota   int64
	timeout time.Duration
	err     error
}

// Error implements error; the message is safe to show to the client.
func (e *bodyTimeoutError) Error() string {
	return fmt.Sprintf("the request body arrived too slowly: the server needs at least %d bytes every %s until it ends", e.quota, e.timeout)
}

// Unwrap returns the read error.
func (e *bodyTimeoutError) Unwrap() error { return e.err }

// bodyMemoryError says that the body memory budget stayed exhausted for
// as long as a request may wait.
type bodyMemoryError struct {
	limit int64
	wait  time.Duration
}

// Error implements error; the message is safe to show to the client.
func (e *bodyMemoryError) Error() string {
	return fmt.Sprintf("the server is busy: other requests hold its %d bytes of memory for request bodies, and none was freed within %s; retry later (see Retry-After)", e.limit, e.wait)
}

// GuardError returns the error of a guarded request body (Guard) as an
// error with one of the guard's codes, whose status ErrorStatus gives
// (408 for a body too slow, 503 for no body memory) and whose message is
// safe to show; nil for any other error. Handlers that read the body
// themselves (the web UI's forms) answer by it.
func GuardError(err error) *railyard.Error {
	var timeout *bodyTimeoutError
	if errors.As(err, &timeout) {
		return &railyard.Error{Code: codeRequestTimeout, Message: timeout.Error(), Field: "body"}
	}
	var memory *bodyMemoryError
	if errors.As(err, &memory) {
		return &railyard.Error{Code: codeUnavailable, Message: memory.Error()}
	}
	return nil
}
