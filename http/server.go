// Package http serves Railyard over HTTP: the JSON API under /api/v1, the
// Kuberpult-compatible endpoints existing CI pipelines call, the OpenAPI
// document, health checks and metrics, and, mounted by the one router
// (Server.serveHTTP), the web UI (package http/ui) and the built-in Git
// server. It also holds the Go client the CLI uses.
//
// The package is named after the dependency it wraps, as the other
// subpackages are; it imports net/http as nethttp. Handlers only translate
// between the wire and the engine: every rule lives in the root package.
package http

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	nethttp "net/http"
	"path"
	"strings"
	"time"

	railyard "github.com/railyard-cd/railyard"
)

// Default request limits.
const (
	// DefaultMaxManifestBytes is the default limit of one manifest.
	DefaultMaxManifestBytes = railyard.DefaultMaxManifestBytes
	// DefaultMaxRequestBytes is the default limit of one request body.
	DefaultMaxRequestBytes = 64 << 20
)

// GitPath is the URL path of the built-in Git server (Options.Git): a
// repository URL, so that `git clone http://<server>/git/manifests.git`
// works.
const GitPath = "/git/manifests.git"

// Headers carrying the actor, base64-encoded (Kuberpult's convention,
// which lets names hold any character a header could not).
const (
	headerAuthorName  = "author-name"
	headerAuthorEmail = "author-email"
)

// Options configure a Server. The zero value is useful: every field has a
// default.
type Options struct {
	// MaxManifestBytes limits one manifest in a release upload; 0 means
	// DefaultMaxManifestBytes.
	MaxManifestBytes int64
	// MaxRequestBytes limits one request body; 0 means
	// DefaultMaxRequestBytes. It bounds the memory a request may hold.
	MaxRequestBytes int64
	// DefaultActor is recorded when a request carries no author headers;
	// the zero value means railyard.DefaultActor.
	DefaultActor railyard.Actor
	// Logger receives internal errors; nil means slog.Default().
	Logger *slog.Logger
	// ExportStatus reports the Git export for /api/v1/export-status and
	// the metrics; nil means the server runs without export.
	ExportStatus ExportStatusFunc
	// UI answers the paths outside /api/ that no route of the table
	// claims: the web UI (package http/ui), which declares its own
	// pages. nil means they are answered 404 in JSON.
	UI nethttp.Handler
	// Git answers every path under GitPath/: the built-in read-only Git
	// server (gitrepo.NewHTTPHandler(GitPath, …)). nil means there is
	// none, and those paths are routed as any other.
	Git nethttp.Handler
	// Ready, when set, is asked by /readyz after the store has answered a
	// read (serve checks that the data directory takes a write). An error
	// makes /readyz answer 503 with the error's text, which must
	// therefore be safe to show.
	Ready func(context.Context) error

	// AllowedHosts are the host names the Host header may carry (see
	// Guard): a name, "*.example.com" for the names under example.com,
	// or "*" for any. IP addresses are always allowed. Empty allows any
	// host.
	AllowedHosts []string
	// MaxBodyMemory bounds the bytes of request bodies all requests hold
	// at once; 0 means DefaultMaxBodyMemory. It is raised to
	// MaxRequestBytes if smaller, so that a request of the largest size
	// can be taken at all.
	MaxBodyMemory int64
	// BodyTimeout is the window in which a request body must deliver
	// MinBodyRate × BodyTimeout bytes or end, and the longest a request
	// waits for body memory; 0 means DefaultBodyTimeout.
	BodyTimeout time.Duration
	// MinBodyRate is the minimum rate of a request body in bytes per
	// second; 0 means DefaultMinBodyRate.
	MinBodyRate int64
	// ReadHeaderTimeout, WriteTimeout and IdleTimeout configure the
	// net/http server (ConfigureHTTPServer); WriteTimeout also bounds each
	// write of an answer (Guard). 0 means their defaults.
	ReadHeaderTimeout time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
}

// withDefaults returns the options with every zero field defaulted.
func (o Options) withDefaults() Options {
	if o.MaxManifestBytes <= 0 {
		o.MaxManifestBytes = DefaultMaxManifestBytes
	}
	if o.MaxRequestBytes <= 0 {
		o.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if o.DefaultActor.Name == "" {
		o.DefaultActor = railyard.DefaultActor
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o.limitsWithDefaults()
}

// limitsWithDefaults defaults the limits of slow and large requests.
func (o Options) limitsWithDefaults() Options {
	if o.MaxBodyMemory <= 0 {
		o.MaxBodyMemory = DefaultMaxBodyMemory
	}
	o.MaxBodyMemory = max(o.MaxBodyMemory, o.MaxRequestBytes)
	if o.BodyTimeout <= 0 {
		o.BodyTimeout = DefaultBodyTimeout
	}
	if o.MinBodyRate <= 0 {
		o.MinBodyRate = DefaultMinBodyRate
	}
	if o.ReadHeaderTimeout <= 0 {
		o.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	return o
}

// Server answers Railyard's HTTP API by calling the engine. It holds no
// state of its own besides its configuration, so it is safe for concurrent
// use and several servers may share one engine.
type Server struct {
	engine  *railyard.Engine
	opts    Options
	routes  []route
	mux     *nethttp.ServeMux
	metrics *metrics
	// budget bounds the memory of request bodies (Guard).
	budget *bodyBudget
	// crossOrigin decides which requests come from another site.
	crossOrigin *nethttp.CrossOriginProtection
	// overview is the encoding of the last overview served (overview.go).
	overview overviewBody
}

// handlerFunc is a handler that returns its error instead of writing it,
// so that errors are answered in one place with one status table.
type handlerFunc func(w nethttp.ResponseWriter, r *nethttp.Request) error

// route is one entry of the route table: a method, a ServeMux path
// pattern, the handler and its OpenAPI description.
type route struct {
	method  string
	pattern string
	handle  handlerFunc
	doc     *operation
}

// NewServer returns a server that applies requests through engine.
func NewServer(engine *railyard.Engine, opts Options) *Server {
	s := &Server{engine: engine, opts: opts.withDefaults(), mux: nethttp.NewServeMux(),
		crossOrigin: nethttp.NewCrossOriginProtection()}
	s.budget = newBodyBudget(s.opts.MaxBodyMemory)
	s.metrics = s.newMetrics()
	s.routes = s.routeTable()
	for _, rt := range s.routes {
		s.mux.Handle(rt.method+" "+rt.pattern, s.wrap(rt.pattern, rt.handle))
	}
	return s
}

// routeTable lists every route of the API, the Kuberpult-compatible
// endpoints and the service endpoints: the one place they are declared,
// so that the OpenAPI document and its test can enumerate them. serveHTTP
// routes to the table and to the handlers of Options (the web UI, the Git
// server).
func (s *Server) routeTable() []route {
	return []route{
		{"GET", "/healthz", s.handleHealthz, healthzDoc},
		{"GET", "/readyz", s.handleReadyz, readyzDoc},
		{"GET", "/api/v1/openapi.json", s.handleOpenAPI, openAPIDoc},
		{"GET", "/metrics", s.handleMetrics, metricsDoc},
		{"GET", "/api/v1/export-status", s.handleExportStatus, exportStatusDoc},

		{"GET", "/api/v1/environments", s.handleFindEnvironments, findEnvironmentsDoc},
		{"GET", "/api/v1/environments/{env}", s.handleFindEnvironment, findEnvironmentDoc},
		{"PUT", "/api/v1/environments/{env}", s.handlePutEnvironment, putEnvironmentDoc},
		{"DELETE", "/api/v1/environments/{env}", s.handleDeleteEnvironment, deleteEnvironmentDoc},

		{"GET", "/api/v1/applications", s.handleFindApplications, findApplicationsDoc},
		{"GET", "/api/v1/applications/{app}", s.handleFindApplication, findApplicationDoc},
		{"DELETE", "/api/v1/applications/{app}", s.handleDeleteApplication, deleteApplicationDoc},
		{"POST", "/api/v1/applications/{app}/releases", s.handleCreateRelease, createReleaseDoc},
		{"GET", "/api/v1/applications/{app}/releases/{version}", s.handleFindRelease, findReleaseDoc},
		{"POST", "/api/v1/applications/{app}/environments/{env}/deploy", s.handleDeploy, deployDoc},
		{"POST", "/api/v1/applications/{app}/environments/{env}/promote", s.handlePromote, promoteDoc},
		{"POST", "/api/v1/applications/{app}/environments/{env}/rollback", s.handleRollback, rollbackDoc},

		{"POST", "/api/v1/environments/{env}/release-train", s.handleReleaseTrain, releaseTrainDoc(false)},
		{"POST", "/api/v1/environment-groups/{group}/release-train", s.handleReleaseTrain, releaseTrainDoc(true)},
		{"GET", "/api/v1/environments/{env}/deploy-windows", s.handleDeployWindows, deployWindowsDoc},

		{"PUT", "/api/v1/environments/{env}/locks/{id}", s.handleCreateLock(railyard.LockEnvironment), createLockDoc(railyard.LockEnvironment)},
		{"DELETE", "/api/v1/environments/{env}/locks/{id}", s.handleDeleteLock(railyard.LockEnvironment), deleteLockDoc(railyard.LockEnvironment)},
		{"PUT", "/api/v1/environments/{env}/applications/{app}/locks/{id}", s.handleCreateLock(railyard.LockApplication), createLockDoc(railyard.LockApplication)},
		{"DELETE", "/api/v1/environments/{env}/applications/{app}/locks/{id}", s.handleDeleteLock(railyard.LockApplication), deleteLockDoc(railyard.LockApplication)},
		{"PUT", "/api/v1/environments/{env}/teams/{team}/locks/{id}", s.handleCreateLock(railyard.LockTeam), createLockDoc(railyard.LockTeam)},
		{"DELETE", "/api/v1/environments/{env}/teams/{team}/locks/{id}", s.handleDeleteLock(railyard.LockTeam), deleteLockDoc(railyard.LockTeam)},
		{"PUT", "/api/v1/environment-groups/{group}/locks/{id}", s.handleCreateLock(railyard.LockGroup), createLockDoc(railyard.LockGroup)},
		{"DELETE", "/api/v1/environment-groups/{group}/locks/{id}", s.handleDeleteLock(railyard.LockGroup), deleteLockDoc(railyard.LockGroup)},
		{"GET", "/api/v1/locks", s.handleFindLocks, findLocksDoc},

		{"GET", "/api/v1/overview", s.handleOverview, overviewDoc},
		{"GET", "/api/v1/events", s.handleFindEvents, findEventsDoc},
		{"POST", "/api/v1/batch", s.handleBatch, batchDoc},

		{"POST", "/release", s.handleKuberpultRelease(true), kuberpultReleaseDoc("/release")},
		{"POST", "/api/release", s.handleKuberpultRelease(false), kuberpultReleaseDoc("/api/release")},
		{"POST", "/api/application/{app}/release/manifests/latest", s.handleKuberpultManifests, kuberpultManifestsDoc},
		{"POST", "/api/application/{app}/release/manifests/{version}", s.handleKuberpultManifests, kuberpultManifestsDoc},
		{"PUT", "/environments/{env}/locks/{id}", s.handleKuberpultCreateLock(railyard.LockEnvironment), kuberpultCreateLockDoc(railyard.LockEnvironment)},
		{"DELETE", "/environments/{env}/locks/{id}", s.handleKuberpultDeleteLock(railyard.LockEnvironment), kuberpultDeleteLockDoc(railyard.LockEnvironment)},
		{"PUT", "/environments/{env}/applications/{app}/locks/{id}", s.handleKuberpultCreateLock(railyard.LockApplication), kuberpultCreateLockDoc(railyard.LockApplication)},
		{"DELETE", "/environments/{env}/applications/{app}/locks/{id}", s.handleKuberpultDeleteLock(railyard.LockApplication), kuberpultDeleteLockDoc(railyard.LockApplication)},
		{"PUT", "/api/environments/{env}/lock/team/{team}/{id}", s.handleKuberpultCreateLock(railyard.LockTeam), kuberpultCreateLockDoc(railyard.LockTeam)},
		{"DELETE", "/api/environments/{env}/lock/team/{team}/{id}", s.handleKuberpultDeleteLock(railyard.LockTeam), kuberpultDeleteLockDoc(railyard.LockTeam)},
		{"PUT", "/environment-groups/{group}/locks/{id}", s.handleKuberpultCreateLock(railyard.LockGroup), kuberpultCreateLockDoc(railyard.LockGroup)},
		{"DELETE", "/environment-groups/{group}/locks/{id}", s.handleKuberpultDeleteLock(railyard.LockGroup), kuberpultDeleteLockDoc(railyard.LockGroup)},
		// The paths Kuberpult's client uses for the same locks when it
		// authenticates with Dex (an /api prefix), and without Dex for team
		// locks (no /api prefix).
		{"PUT", "/api/environments/{env}/locks/{id}", s.handleKuberpultCreateLock(railyard.LockEnvironment), kuberpultCreateLockDoc(railyard.LockEnvironment)},
		{"DELETE", "/api/environments/{env}/locks/{id}", s.handleKuberpultDeleteLock(railyard.LockEnvironment), kuberpultDeleteLockDoc(railyard.LockEnvironment)},
		{"PUT", "/api/environments/{env}/applications/{app}/locks/{id}", s.handleKuberpultCreateLock(railyard.LockApplication), kuberpultCreateLockDoc(railyard.LockApplication)},
		{"DELETE", "/api/environments/{env}/applications/{app}/locks/{id}", s.handleKuberpultDeleteLock(railyard.LockApplication), kuberpultDeleteLockDoc(railyard.LockApplication)},
		{"PUT", "/environments/{env}/lock/team/{team}/{id}", s.handleKuberpultCreateLock(railyard.LockTeam), kuberpultCreateLockDoc(railyard.LockTeam)},
		{"DELETE", "/environments/{env}/lock/team/{team}/{id}", s.handleKuberpultDeleteLock(railyard.LockTeam), kuberpultDeleteLockDoc(railyard.LockTeam)},
		{"PUT", "/api/environment-groups/{group}/locks/{id}", s.handleKuberpultCreateLock(railyard.LockGroup), kuberpultCreateLockDoc(railyard.LockGroup)},
		{"DELETE", "/api/environment-groups/{group}/locks/{id}", s.handleKuberpultDeleteLock(railyard.LockGroup), kuberpultDeleteLockDoc(railyard.LockGroup)},
		// Release trains, with and without the /api prefix as above.
		{"PUT", "/api/environments/{env}/releasetrain", s.handleKuberpultTrain(false), kuberpultTrainDoc(false)},
		{"PUT", "/environments/{env}/releasetrain", s.handleKuberpultTrain(false), kuberpultTrainDoc(false)},
		{"PUT", "/api/environment-groups/{group}/releasetrain", s.handleKuberpultTrain(false), kuberpultTrainDoc(true)},
		{"PUT", "/environment-groups/{group}/releasetrain", s.handleKuberpultTrain(false), kuberpultTrainDoc(true)},
		{"GET", "/api/environments/{env}/releasetrain/prognosis", s.handleKuberpultTrain(true), kuberpultPrognosisDoc},
	}
}

// ConfigureHTTPServer sets the timeouts of the options on srv: how long
// a client may take to send its headers, how long a keep-alive
// connection may wait for its next request, and the first write deadline
// of an answer (Guard moves it at each write). It sets no ReadTimeout:
// Guard holds request bodies to a minimum rate instead, which lets a
// large upload over a slow link through.
func (s *Server) ConfigureHTTPServer(srv *nethttp.Server) {
	srv.ReadHeaderTimeout = s.opts.ReadHeaderTimeout
	srv.WriteTimeout = s.opts.WriteTimeout
	srv.IdleTimeout = s.opts.IdleTimeout
}

// serveHTTP routes a request: the one place that decides which handler
// answers which path. In order:
//
//  1. Under GitPath/, the Git server (Options.Git). It checks its paths
//     itself and is mounted by prefix, not through a ServeMux, which
//     would redirect "/git/manifests.git" and paths with ".." segments.
//  2. A path with empty, "." or ".." segments is refused: a name such as
//     ".." must never be cleaned into a different route, and, unlike a
//     bare ServeMux, the server never redirects.
//  3. The route table (routeTable).
//  4. A path of the table with another method: 405, in JSON like every
//     other error of the API.
//  5. Outside /api/, the web UI (Options.UI), whose pages are declared
//     in package http/ui.
//  6. Anything else: 404 in JSON.
//
// Handler puts the guard in front of all of them.
func (s *Server) serveHTTP(w nethttp.ResponseWriter, r *nethttp.Request) {
	if s.opts.Git != nil && strings.HasPrefix(r.URL.Path, GitPath+"/") {
		s.opts.Git.ServeHTTP(w, r)
		return
	}
	if p := r.URL.EscapedPath(); p == "" || cleanPath(p) != p {
		s.writeError(w, r, railyard.Errorf(railyard.EINVALID, "path %q is not canonical: it must not contain empty, '.' or '..' segments", railyard.Truncate(p, 200)).WithField("path"))
		return
	}
	h, pattern := s.mux.Handler(r)
	if pattern != "" {
		s.mux.ServeHTTP(w, r)
		return
	}
	// Let the mux decide between 404 and 405 (it knows the other methods
	// of the path), but answer in JSON.
	catcher := &statusCatcher{header: nethttp.Header{}}
	h.ServeHTTP(catcher, r)
	if catcher.status == nethttp.StatusMethodNotAllowed {
		w.Header().Set("Allow", catcher.header.Get("Allow"))
		writeJSON(w, nethttp.StatusMethodNotAllowed, &railyard.Error{Code: codeMethodNotAllowed,
			Message: fmt.Sprintf("method %s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, catcher.header.Get("Allow"))})
		return
	}
	if s.opts.UI != nil && !strings.HasPrefix(r.URL.Path, "/api/") {
		s.opts.UI.ServeHTTP(w, r)
		return
	}
	s.writeError(w, r, railyard.Errorf(railyard.ENOTFOUND, "no route %s %s: see /api/v1/openapi.json for the API", r.Method, railyard.Truncate(r.URL.Path, 200)))
}

// cleanPath is path.Clean that keeps a trailing slash, as ServeMux does.
func cleanPath(p string) string {
	if p == "" || p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		np += "/"
	}
	return np
}

// statusCatcher records the status a handler writes and drops the body.
type statusCatcher struct {
	header nethttp.Header
	status int
}

// Header implements nethttp.ResponseWriter.
func (c *statusCatcher) Header() nethttp.Header { return c.header }

// Write implements nethttp.ResponseWriter, dropping the body.
func (c *statusCatcher) Write(b []byte) (int, error) { return len(b), nil }

// WriteHeader implements nethttp.ResponseWriter.
func (c *statusCatcher) WriteHeader(status int) { c.status = status }

// wrap turns a handlerFunc into a handler: it bounds the request body,
// answers returned errors, and turns a panic into a logged 500 so one bad
// request cannot take the process down with an HTML error page.
func (s *Server) wrap(pattern string, h handlerFunc) nethttp.Handler {
	return nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: nethttp.StatusOK}
		w = sw
		defer func() { s.metrics.observe(pattern, r.Method, sw.status, time.Since(start)) }()
		r.Body = nethttp.MaxBytesReader(w, r.Body, s.opts.MaxRequestBytes)
		defer func() {
			if v := recover(); v != nil {
				if v == nethttp.ErrAbortHandler {
					panic(v)
				}
				s.writeError(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// now reads the engine's clock, so that times computed here (a lock's
// expiry from a suggested lifetime) agree with the engine's, in tests too.
func (s *Server) now() time.Time {
	if s.engine.Now != nil {
		return s.engine.Now()
	}
	return time.Now()
}

// statusResponse is the body of the health endpoints.
type statusResponse struct {
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
}

var healthzDoc = &operation{
	Tag:         "service",
	Summary:     "Liveness",
	Description: "200 while the process is up. It checks nothing else.",
	Responses:   []response{{200, "Up.", statusResponse{}}},
}

var readyzDoc = &operation{
	Tag:     "service",
	Summary: "Readiness",
	Description: "200 while the store answers a read and the server's own checks pass (railyard serve: the data directory " +
		"takes a write and an fsync); 503 otherwise, with a message saying what is wrong.",
	Responses: []response{
		{200, "Ready.", statusResponse{}},
		{503, "The store does not answer, or the data directory cannot be written.", statusResponse{}},
	},
}

// handleHealthz answers while the process is up; it touches nothing else,
// so an orchestrator restarts Railyard only when Railyard itself is stuck.
func (s *Server) handleHealthz(w nethttp.ResponseWriter, r *nethttp.Request) error {
	writeJSON(w, nethttp.StatusOK, statusResponse{Status: "ok"})
	return nil
}

// handleReadyz answers 200 only while the store answers a read and the
// Ready check passes. The store's error is logged, not answered: its
// text may hold internals (SQL, paths).
func (s *Server) handleReadyz(w nethttp.ResponseWriter, r *nethttp.Request) error {
	if _, err := s.engine.LastEventID(r.Context()); err != nil {
		s.notReady(w, r, err, "the database does not answer a read (the log has the cause)")
		return nil
	}
	if s.opts.Ready != nil {
		if err := s.opts.Ready(r.Context()); err != nil {
			s.notReady(w, r, err, err.Error())
			return nil
		}
	}
	writeJSON(w, nethttp.StatusOK, statusResponse{Status: "ok"})
	return nil
}

// notReady logs why the server is not ready and answers 503.
func (s *Server) notReady(w nethttp.ResponseWriter, r *nethttp.Request, err error, message string) {
	if !errors.Is(err, context.Canceled) {
		s.opts.Logger.ErrorContext(r.Context(), "readiness check failed", "error", err)
	}
	writeJSON(w, nethttp.StatusServiceUnavailable, statusResponse{Status: "unavailable", Message: message})
}

// statusWriter remembers the status a handler answered, for the metrics.
type statusWriter struct {
	nethttp.ResponseWriter
	status int
}

// WriteHeader implements http.ResponseWriter.
func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() nethttp.ResponseWriter { return w.ResponseWriter }
