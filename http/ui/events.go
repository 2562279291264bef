package ui

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// handleEvents handles GET /events: a Server-Sent Events stream with one
// message per engine commit, carrying the newest event id. The page
// script compares it with the id its page was rendered at and refreshes
// the page's live region. The stream starts with the current id, so a
// commit between page load and connect is not missed. It ends when the
// request's context ends (the browser left) or the handler is closed.
//
// Every stream follows the handler's one liveFeed: a commit costs one read
// of the newest event id however many pages are open, and a viewer holds
// nothing but its connection and the id it sent last.
func (h *Handler) handleEvents(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	rc := http.NewResponseController(w)
	// The server's write timeout is for pages, not for a stream that
	// lives as long as the tab.
	_ = rc.SetWriteDeadline(time.Time{})
	feed := h.liveFeed()
	// Taken before the id is read: a commit after the read wakes us.
	_, wake := feed.current()
	sent, err := h.engine.LastEventID(ctx)
	if err != nil {
		if ctx.Err() == nil {
			h.log.Error("ui: event stream", "error", err)
		}
		http.Error(w, "the event stream is unavailable", http.StatusServiceUnavailable)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/event-stream")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprintf(w, "retry: 2000\n\nid: %d\ndata: %d\n\n", sent, sent); err != nil || rc.Flush() != nil {
		return
	}
	keepAlive := time.NewTicker(h.opts.KeepAlive)
	defer keepAlive.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.done:
			return
		case <-wake:
			var id int64
			id, wake = feed.current()
			if id <= sent {
				continue
			}
			sent = id
			if _, err := fmt.Fprintf(w, "id: %d\ndata: %d\n\n", id, id); err != nil || rc.Flush() != nil {
				return
			}
		case <-keepAlive.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		}
	}
}

// liveFeed is the handler's one subscription to the engine's commits: a
// goroutine reads the newest event id once per commit and wakes every
// stream by closing the channel they wait on.
type liveFeed struct {
	mu   sync.Mutex
	id   int64
	wake chan struct{}
}

// current returns the newest event id read and the channel closed when a
// newer one is.
func (f *liveFeed) current() (int64, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.id, f.wake
}

// publish records id and wakes the streams.
func (f *liveFeed) publish(id int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if id <= f.id {
		return
	}
	f.id = id
	close(f.wake)
	f.wake = make(chan struct{})
}

// liveFeed returns the handler's feed, starting it with the first stream;
// it runs until the handler is closed.
func (h *Handler) liveFeed() *liveFeed {
	h.feedOnce.Do(func() {
		h.feed = &liveFeed{wake: make(chan struct{})}
		signals, unsubscribe := h.engine.Subscribe()
		go h.runFeed(signals, unsubscribe)
	})
	return h.feed
}

// runFeed reads the newest event id after each commit signal.
func (h *Handler) runFeed(signals <-chan struct{}, unsubscribe func()) {
	defer unsubscribe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-h.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		select {
		case <-h.done:
			return
		case <-signals:
		}
		id, err := h.engine.LastEventID(ctx)
		if err != nil {
			if ctx.Err() == nil {
				// The next commit tries again.
				h.log.Error("ui: event feed", "error", err)
			}
			continue
		}
		h.feed.publish(id)
	}
}
