package ui

import (
	"bytes"
	"compress/gzip"
	"embed"
	"html/template"
	"net/http"
	"strings"
	"sync"
	"time"

	railyard "github.com/railyard-cd/railyard"
	rhttp "github.com/railyard-cd/railyard/http"
)

//go:embed templates/*.html
var templateFS embed.FS

// pageTemplates are the page templates; each is parsed together with
// layout.html and partials.html.
var pageTemplates = []string{"overview", "application", "environment", "locks", "history", "identity", "error"}

// templates holds one parsed template set per page.
type templates struct {
	pages map[string]*template.Template
}

// parseTemplates parses the embedded templates. A template error is a bug
// that every test finds, so it panics.
func parseTemplates(a *assets) *templates {
	base := template.Must(template.New("").Funcs(templateFuncs(a)).ParseFS(templateFS, "templates/layout.html", "templates/partials.html"))
	t := &templates{pages: make(map[string]*template.Template, len(pageTemplates))}
	for _, name := range pageTemplates {
		t.pages[name] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, "templates/"+name+".html"))
	}
	return t
}

// page is what every page shows besides its own content: the data of the
// layout. Views embed it.
type page struct {
	Title string
	// Nav is the navigation entry to mark as current.
	Nav string
	// Now is the time the page is rendered at, for "3 min ago".
	Now time.Time
	// Path is the request's path and query, where a form returns to.
	Path string
	// Actor is who the browser said it is; nil until it has.
	Actor *railyard.Actor
	// CSRF is the token every form carries.
	CSRF string
	// Flash is the message of the action that redirected here.
	Flash *flash
	// Export is set when the Git export lags or fails.
	Export *exportBanner
	// EventID is the newest event when the page was read; the live
	// script compares it with the event stream's.
	EventID int64
	// Status is the HTTP status the page is answered with.
	Status int
	// Live is true when the page script may fetch the page's URL again
	// to refresh it: not for a page answered to a POST.
	Live bool
	// Canonical is the page's own URL, where the script sends the
	// browser when a page answered to a POST is out of date.
	Canonical string
}

// exportBanner says why the Git export needs attention.
type exportBanner struct {
	Error   string
	Pending int64
	Age     string
}

// newPage collects the common page data for a request. It sets the CSRF
// cookie when the browser has none and takes the flash message, except
// for the live refreshes of the page script (which must not eat it).
func (h *Handler) newPage(w http.ResponseWriter, r *http.Request) *page {
	p := &page{Now: h.now(), Path: r.URL.RequestURI(), Status: http.StatusOK, Canonical: "/"}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		p.Live, p.Canonical = true, p.Path
	}
	p.Actor = readActor(r)
	p.CSRF = h.csrfToken(w, r)
	if !isLive(r) && r.Method == http.MethodGet {
		p.Flash = h.takeFlash(w, r)
	}
	return p
}

// isLive reports whether the request is the page script's refresh of the
// live region.
func isLive(r *http.Request) bool {
	return r.Header.Get("X-Railyard-Live") == "1"
}

// loadCommon reads the event id and the export state for the layout. The
// event id is read before the page's data, so that the page is at least
// as new as the id it carries.
func (h *Handler) loadCommon(r *http.Request, p *page) error {
	id, err := h.engine.LastEventID(r.Context())
	if err != nil {
		return err
	}
	p.EventID = id
	p.Export = h.exportBanner(r)
	return nil
}

// exportBanner asks the exporter for its state; a failure to ask is
// logged, not shown (the page is still right).
func (h *Handler) exportBanner(r *http.Request) *exportBanner {
	if h.opts.ExportStatus == nil {
		return nil
	}
	st, err := h.opts.ExportStatus(r.Context())
	if err != nil {
		h.log.Error("ui: export status", "error", err)
		return nil
	}
	if !st.Enabled {
		return nil
	}
	age := time.Duration(st.OldestPendingSeconds * float64(time.Second))
	if st.LastError == "" && (st.PendingEvents == 0 || age < exportLagThreshold) {
		return nil
	}
	b := &exportBanner{Error: st.LastError, Pending: st.PendingEvents}
	if st.PendingEvents > 0 {
		b.Age = humanDuration(age)
	}
	return b
}

// bufPool recycles render buffers: the overview of a large installation
// is megabytes.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// gzipPool recycles gzip writers.
var gzipPool = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return zw
}}

// render executes a page template into a buffer first, so that a template
// error becomes an error page instead of half a page, then writes it with
// status p.Status, compressed when the browser accepts gzip. The live
// refresh of the page script gets only the live region.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, name string, view any, p *page) error {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	entry := "layout"
	if isLive(r) {
		entry = "live-region"
	}
	if err := h.tmpl.pages[name].ExecuteTemplate(buf, entry, view); err != nil {
		return err
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	hdr.Add("Vary", "Accept-Encoding")
	if buf.Len() < 1024 || !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		w.WriteHeader(p.Status)
		_, _ = buf.WriteTo(w) // a browser gone away is not an error to answer
		return nil
	}
	hdr.Set("Content-Encoding", "gzip")
	w.WriteHeader(p.Status)
	zw := gzipPool.Get().(*gzip.Writer)
	defer gzipPool.Put(zw)
	zw.Reset(w)
	_, _ = buf.WriteTo(zw)
	_ = zw.Close()
	return nil
}

// errorView is the data of the error page.
type errorView struct {
	*page
	Heading string
	Message string
}

// renderError answers an error with the status the server's one table
// gives its code (rhttp.ErrorStatus) and its message; an internal error
// is logged and answered 500 with a generic message, since its text may
// hold internals.
func (h *Handler) renderError(w http.ResponseWriter, r *http.Request, p *page, err error) {
	status := rhttp.ErrorStatus(railyard.ErrorCode(err))
	switch status {
	case http.StatusInternalServerError:
		h.log.Error("ui: request failed", "method", r.Method, "path", r.URL.Path, "error", err)
		h.renderStatus(w, r, p, status, "Something went wrong",
			"Railyard could not answer this request. The error has been logged; try again in a moment.")
	case http.StatusNotFound:
		h.renderStatus(w, r, p, status, "Not found",
			railyard.ErrorMessage(err)+". It may have been deleted or renamed since the page you came from was loaded.")
	case http.StatusLocked:
		h.renderStatus(w, r, p, status, "Blocked", railyard.ErrorMessage(err))
	default:
		h.renderStatus(w, r, p, status, "That did not work", railyard.ErrorMessage(err))
	}
}

// renderStatus answers an error page with the given status.
func (h *Handler) renderStatus(w http.ResponseWriter, r *http.Request, p *page, status int, heading, message string) {
	p.Status, p.Title = status, heading
	if err := h.render(w, r, "error", &errorView{page: p, Heading: heading, Message: message}, p); err != nil {
		h.log.Error("ui: render error page", "error", err)
		http.Error(w, message, status)
	}
}
