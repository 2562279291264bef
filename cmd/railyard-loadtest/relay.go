package main

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
)

// relay is a TCP forwarder on 127.0.0.1 in front of the server of the
// chaos scenario: the load keeps one address while the server behind it
// is killed and restarted on another port. A connection to a server that
// is down is closed at once, as a refused connection would be; the relay
// never answers anything itself.
type relay struct {
	ln     net.Listener
	target atomic.Pointer[string]
	wg     sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]bool
}

// newRelay listens on a port the kernel picks and forwards nothing until
// setTarget is called.
func newRelay() (*relay, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &relay{ln: ln, conns: map[net.Conn]bool{}}
	r.wg.Go(r.accept)
	return r, nil
}

// URL is the relay's base URL.
func (r *relay) URL() string { return "http://" + r.ln.Addr().String() }

// setTarget makes new connections go to addr (host:port); "" refuses
// them.
func (r *relay) setTarget(addr string) { r.target.Store(&addr) }

// accept forwards every connection until the listener is closed.
func (r *relay) accept() {
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		r.wg.Go(func() { r.forward(c) })
	}
}

// forward copies c to the target and back, and closes both sides as soon
// as either ends: the server's death ends its clients' connections.
func (r *relay) forward(c net.Conn) {
	defer c.Close()
	target := r.target.Load()
	if target == nil || *target == "" {
		return
	}
	s, err := net.Dial("tcp", *target)
	if err != nil {
		return
	}
	defer s.Close()
	if !r.track(c, s) {
		return
	}
	defer r.untrack(c, s)
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		done <- struct{}{}
	}
	go pipe(s, c)
	go pipe(c, s)
	<-done
	c.Close()
	s.Close()
	<-done
}

// track records open connections, so that close can end them; it
// reports false once the relay is closed.
func (r *relay) track(conns ...net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.conns == nil {
		return false
	}
	for _, c := range conns {
		r.conns[c] = true
	}
	return true
}

func (r *relay) untrack(conns ...net.Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range conns {
		delete(r.conns, c)
	}
}

// close stops listening, ends every connection and waits for the
// forwarders.
func (r *relay) close() error {
	err := r.ln.Close()
	r.mu.Lock()
	for c := range r.conns {
		c.Close()
	}
	r.conns = nil
	r.mu.Unlock()
	r.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
