// Package ui is Railyard's web UI: server-rendered pages over the engine,
// with html/template over embedded templates, CSRF-protected forms that
// redirect after POST, assets embedded and served under a content hash,
// and a few lines of plain JavaScript that refresh a page when the engine
// commits (Server-Sent Events at /events).
//
// The UI's paths never collide with the JSON API (/api/…), the
// Kuberpult-compatible paths (/release, /environments/…,
// /environment-groups/…) or the service endpoints, so the API server
// (package http, Options.UI) sends every other path outside /api/ to
// Handler:
//
//	GET  /                      the overview (team filter ?team=, search ?q=)
//	GET  /apps/{app}            an application
//	GET  /envs/{env}            an environment, with its release train prognosis
//	GET  /locks                 every lock
//	GET  /history               the event log
//	GET  /events                Server-Sent Events: one message per engine commit
//	GET  /static/{hash}/{name}  embedded assets
//	GET|POST /ui/identity       who you are (until authentication exists)
//	POST /ui/…                  the actions
package ui

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"sync"
	"time"

	railyard "github.com/railyard-cd/railyard"
	rhttp "github.com/railyard-cd/railyard/http"
)

// Options configure the UI handler. The zero value is usable.
type Options struct {
	// ExportStatus reports the Git export, for the banner shown when it
	// lags or fails; nil means the server runs without Git export.
	ExportStatus func(context.Context) (railyard.ExportStatus, error)
	// Logger receives internal errors; nil discards them.
	Logger *slog.Logger
	// CSRFKey signs the CSRF tokens and flash messages; nil means a
	// random key per process (forms open across a restart must then be
	// submitted again).
	CSRFKey []byte
	// KeepAlive is how often an idle event stream sends a comment so that
	// proxies keep it open; 0 means 25 seconds.
	KeepAlive time.Duration
}

// exportLagThreshold is how old the oldest event waiting for Git export
// may be before the banner says the export lags.
const exportLagThreshold = 5 * time.Second

// Handler serves the web UI. It is safe for concurrent use. Close ends
// the open event streams, so that a server shutting down does not wait
// for browsers that keep them open.
type Handler struct {
	engine *railyard.Engine
	opts   Options
	log    *slog.Logger
	key    []byte
	mux    *http.ServeMux
	tmpl   *templates
	assets *assets
	// releases caches display versions for the overview.
	releases *releaseIndex

	// feed wakes the event streams (events.go), started with the first.
	feedOnce sync.Once
	feed     *liveFeed

	closeOnce sync.Once
	done      chan struct{}
}

// NewHandler returns the UI over engine. It parses the embedded templates
// and hashes the embedded assets; it starts no goroutine (the first
// event stream starts the one that follows the engine's commits, until
// Close).
func NewHandler(engine *railyard.Engine, opts Options) *Handler {
	h := &Handler{engine: engine, opts: opts, log: opts.Logger, key: opts.CSRFKey,
		mux: http.NewServeMux(), releases: newReleaseIndex(), done: make(chan struct{})}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if len(h.key) == 0 {
		h.key = make([]byte, 32)
		_, _ = rand.Read(h.key) // crypto/rand.Read never fails
	}
	if h.opts.KeepAlive <= 0 {
		h.opts.KeepAlive = 25 * time.Second
	}
	h.assets = newAssets()
	h.tmpl = parseTemplates(h.assets)
	h.routes()
	return h
}

// routes registers every route; the one place they are declared.
func (h *Handler) routes() {
	h.mux.Handle("GET /{$}", h.page(h.handleOverview))
	h.mux.Handle("GET /apps/{app}", h.page(h.handleApplication))
	h.mux.Handle("GET /envs/{env}", h.page(h.handleEnvironment))
	h.mux.Handle("GET /locks", h.page(h.handleLocks))
	h.mux.Handle("GET /history", h.page(h.handleHistory))
	h.mux.Handle("GET /ui/overview/rows", h.page(h.handleOverviewRows))
	h.mux.HandleFunc("GET /events", h.handleEvents)
	h.mux.HandleFunc("GET /static/{hash}/{name}", h.assets.serve)
	h.mux.Handle("GET /ui/identity", h.page(h.handleIdentity))

	h.mux.Handle("POST /ui/identity", h.form(h.handleSaveIdentity))
	h.mux.Handle("POST /ui/apps/{app}/deploy", h.action(h.handleDeploy))
	h.mux.Handle("POST /ui/apps/{app}/rollback", h.action(h.handleRollback))
	h.mux.Handle("POST /ui/apps/{app}/promote", h.action(h.handlePromote))
	h.mux.Handle("POST /ui/apps/{app}/locks", h.action(h.handleCreateApplicationLock))
	h.mux.Handle("POST /ui/envs/{env}/locks", h.action(h.handleCreateEnvironmentLock))
	h.mux.Handle("POST /ui/envs/{env}/train", h.action(h.handleTrain))
	h.mux.Handle("POST /ui/locks/delete", h.action(h.handleDeleteLock))

	h.mux.Handle("/", h.page(h.handleNotFound))
}

// ContentSecurityPolicy is the policy of every UI answer. The pages load
// their one script and one style sheet from /static and have no inline
// script, style or event handler, so nothing inline is allowed: an
// injected <script> or on…= attribute does not run. data: images are the
// icons app.css embeds. The live updates connect to /events and fetch the
// page again (connect-src); forms post only here (form-action); no site
// may frame the UI (frame-ancestors, which X-Frame-Options repeats for
// older browsers).
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", ContentSecurityPolicy)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "same-origin")
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.mux.ServeHTTP(w, r)
}

// Close ends every open event stream. The handler keeps serving pages.
func (h *Handler) Close() {
	h.closeOnce.Do(func() { close(h.done) })
}

// now is the engine's clock, so that pages say "3 min ago" by the same
// time the engine records.
func (h *Handler) now() time.Time {
	if h.engine.Now != nil {
		return h.engine.Now().UTC()
	}
	return time.Now().UTC()
}

// pageFunc renders a page; an error becomes an error page.
type pageFunc func(w http.ResponseWriter, r *http.Request, p *page) error

// actionFunc applies a POSTed form for actor.
type actionFunc func(w http.ResponseWriter, r *http.Request, p *page, actor railyard.Actor) error

// page wraps a GET handler: it prepares the common page data (identity,
// CSRF token, flash) and renders errors.
func (h *Handler) page(fn pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := h.newPage(w, r)
		if err := fn(w, r, p); err != nil {
			h.renderError(w, r, p, err)
		}
	})
}

// form wraps a POST handler that needs no identity: it checks the CSRF
// token first and answers 403 if it is missing or wrong.
func (h *Handler) form(fn pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		p := h.newPage(w, r)
		if err := r.ParseForm(); err != nil {
			h.renderFormError(w, r, p, err)
			return
		}
		if !h.validCSRF(r) {
			h.renderStatus(w, r, p, http.StatusForbidden, "This form has expired",
				"The form was sent without a valid security token: it is older than the server's last restart, or it came from another site. Go back, reload the page and try again.")
			return
		}
		if err := fn(w, r, p); err != nil {
			h.renderError(w, r, p, err)
		}
	})
}

// action wraps a POST handler that changes state: CSRF as in form, and the
// actor from the identity cookie; without one, the browser is sent to the
// identity form first.
func (h *Handler) action(fn actionFunc) http.Handler {
	return h.form(func(w http.ResponseWriter, r *http.Request, p *page) error {
		if p.Actor == nil {
			h.setFlash(w, r, flashError, "Before you change anything, tell Railyard who you are; then repeat the action.")
			http.Redirect(w, r, "/ui/identity?next="+queryEscape(localPath(r.PostForm.Get("next"), "/")), http.StatusSeeOther)
			return nil
		}
		return fn(w, r, p, *p.Actor)
	})
}

// renderFormError answers a form whose body could not be read: the
// server's guard (package http) fails a body that arrives too slowly
// (408) or finds no memory for it (503), with a message safe to show.
func (h *Handler) renderFormError(w http.ResponseWriter, r *http.Request, p *page, err error) {
	if e := rhttp.GuardError(err); e != nil {
		h.renderStatus(w, r, p, rhttp.ErrorStatus(e.Code), "The form did not arrive", e.Message)
		return
	}
	h.renderError(w, r, p, railyard.Errorf(railyard.EINVALID, "the form could not be read: %v", err))
}

// handleNotFound answers every path no route matches.
func (h *Handler) handleNotFound(w http.ResponseWriter, r *http.Request, p *page) error {
	h.renderStatus(w, r, p, http.StatusNotFound, "Page not found",
		"There is no page at "+railyard.Truncate(r.URL.Path, 200)+".")
	return nil
}
