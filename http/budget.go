package http

import (
	"context"
	"errors"
	"sync"
	"time"
)

// errBudgetWait is returned by bodyBudget.acquire when no room came free
// within the wait.
var errBudgetWait = errors.New("body memory budget exhausted")

// bodyBudget bounds the bytes of request bodies that all requests of a
// server hold at once. Bytes are acquired as they arrive and released
// when their request ends. It is safe for concurrent use.
type bodyBudget struct {
	limit int64

	mu   sync.Mutex
	used int64
	// freed is closed, and replaced, when bytes are released while
	// someone waits for room.
	freed   chan struct{}
	waiters int
}

// newBodyBudget returns a budget of limit bytes.
func newBodyBudget(limit int64) *bodyBudget {
	return &bodyBudget{limit: limit, freed: make(chan struct{})}
}

// acquire takes n bytes, waiting at most wait for room. waited reports
// whether it had to wait. It fails with errBudgetWait when the wait ran
// out, and with the context's error when ctx ended first.
func (b *bodyBudget) acquire(ctx context.Context, n int64, wait time.Duration) (waited bool, err error) {
	var timer *time.Timer
	for {
		freed, ok := b.tryAcquire(n, waited)
		if ok {
			return waited, nil
		}
		if timer == nil {
			timer = time.NewTimer(wait)
			defer timer.Stop()
		}
		waited = true
		select {
		case <-freed:
		case <-timer.C:
			b.stopWaiting()
			return true, errBudgetWait
		case <-ctx.Done():
			b.stopWaiting()
			return true, ctx.Err()
		}
	}
}

// tryAcquire takes n bytes if they fit. Otherwise it registers the
// caller as a waiter (once: wasWaiting says it already is) and returns
// the channel closed at the next release.
func (b *bodyBudget) tryAcquire(n int64, wasWaiting bool) (freed <-chan struct{}, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n <= b.limit {
		b.used += n
		if wasWaiting {
			b.waiters--
		}
		return nil, true
	}
	if !wasWaiting {
		b.waiters++
	}
	return b.freed, false
}

// stopWaiting unregisters a waiter that gave up.
func (b *bodyBudget) stopWaiting() {
	b.mu.Lock()
	b.waiters--
	b.mu.Unlock()
}

// release gives n bytes back and wakes the waiters.
func (b *bodyBudget) release(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
	if b.waiters > 0 {
		close(b.freed)
		b.freed = make(chan struct{})
	}
}

// held returns the bytes held now.
func (b *bodyBudget) held() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}
