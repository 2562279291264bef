package ui

import (
	"fmt"
	"net/http"
	"time"
)

// handleEvents handles GET /events: a Server-Sent Events stream with one
// message per engine commit, carrying the newest event id. The page
// script compares it with the id its page was rendered at and refreshes
// the page's live region. The stream starts with the current id, so a
// commit between page load and connect is not missed. It ends when the
// request's context ends (the browser left) or the handler is closed.
func (h *Handler) handleEvents(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	rc := http.NewResponseController(w)
	// The server's write timeout is for pages, not for a stream that
	// lives as long as the tab.
	_ = rc.SetWriteDeadline(time.Time{})
	signals, unsubscribe := h.engine.Subscribe()
	defer unsubscribe()
	hdr := w.Header()
	hdr.Set("Content-Type", "text/event-stream")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprint(w, "retry: 2000\n\n"); err != nil {
		return
	}
	keepAlive := time.NewTicker(h.opts.KeepAlive)
	defer keepAlive.Stop()
	for {
		id, err := h.engine.LastEventID(ctx)
		if err != nil {
			if ctx.Err() == nil {
				h.log.Error("ui: event stream", "error", err)
			}
			return
		}
		if _, err := fmt.Fprintf(w, "id: %d\ndata: %d\n\n", id, id); err != nil || rc.Flush() != nil {
			return
		}
		if !h.waitSignal(r, w, rc, signals, keepAlive.C) {
			return
		}
	}
}

// waitSignal waits for the next commit, sending keep-alive comments
// meanwhile; false when the stream must end.
func (h *Handler) waitSignal(r *http.Request, w http.ResponseWriter, rc *http.ResponseController, signals <-chan struct{}, tick <-chan time.Time) bool {
	for {
		select {
		case <-r.Context().Done():
			return false
		case <-h.done:
			return false
		case <-signals:
			return true
		case <-tick:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil || rc.Flush() != nil {
				return false
			}
		}
	}
}
