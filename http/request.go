package http

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	nethttp "net/http"
	"strings"
	"unicode/utf8"

	railyard "github.com/railyard-cd/railyard"
)

// actor returns the actor of a request from the base64 author headers;
// without them, the configured default actor. An author-email without an
// author-name keeps the default name, since an event needs a name.
func (s *Server) actor(r *nethttp.Request) (railyard.Actor, error) {
	rawName, hasName := headerValue(r, headerAuthorName)
	rawEmail, hasEmail := headerValue(r, headerAuthorEmail)
	if !hasName && !hasEmail {
		return s.opts.DefaultActor, nil
	}
	name, err := decodeHeader(headerAuthorName, rawName)
	if err != nil {
		return railyard.Actor{}, err
	}
	email, err := decodeHeader(headerAuthorEmail, rawEmail)
	if err != nil {
		return railyard.Actor{}, err
	}
	if !hasName {
		name = s.opts.DefaultActor.Name
	}
	a := railyard.Actor{Name: name, Email: email}
	return a, a.Validate()
}

// headerValue returns a header and whether it was sent.
func headerValue(r *nethttp.Request, key string) (string, bool) {
	v := r.Header.Values(key)
	if len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// decodeHeader decodes a base64 author header into valid UTF-8 text.
func decodeHeader(name, raw string) (string, error) {
	data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(raw))
	if err != nil {
		return "", fieldError(name, "header %s must be base64-encoded (e.g. %q for \"alice\"): %v", name, base64.StdEncoding.EncodeToString([]byte("alice")), err)
	}
	if !utf8.Valid(data) {
		return "", fieldError(name, "header %s must decode to UTF-8 text", name)
	}
	return string(data), nil
}

// decodeJSON reads a JSON request body into v, rejecting unknown fields.
// The body is bounded by MaxBytesReader, so reading it whole is safe.
func (s *Server) decodeJSON(r *nethttp.Request, v any) error {
	if err := requireJSON(r, false); err != nil {
		return err
	}
	data, err := s.readBody(r)
	if err != nil {
		return err
	}
	return railyard.DecodeJSONStrict(data, v)
}

// decodeOptionalJSON reads a JSON request body into v, rejecting unknown
// fields; an empty body leaves v as it is. The Content-Type must be JSON
// even when the body is empty: the routes that take an optional body
// change state with a POST, and a page on another site can send a POST
// without body and without Content-Type (a "simple" cross-origin request,
// sent without asking the server first), but never one that is declared
// JSON.
func (s *Server) decodeOptionalJSON(r *nethttp.Request, v any) error {
	if r.Header.Get("Content-Type") == "" {
		return railyard.Errorf(railyard.EUNSUPPORTED, "Content-Type application/json is required, also when the body is empty (this keeps other web sites from triggering the request)").WithField("Content-Type")
	}
	if err := requireJSON(r, true); err != nil {
		return err
	}
	data, err := s.readBody(r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	return railyard.DecodeJSONStrict(data, v)
}

// readBody reads the whole request body, at most MaxRequestBytes. A body
// announced larger is refused before it is read. Memory follows what
// arrives, never what Content-Length announces: a client announcing
// 64 MiB and sending one byte costs a small buffer. The buffer doubles
// as bytes arrive, but not past the announced length (plus the byte
// that sees the end), so a truthful announcement still ends in one
// buffer of the body's size.
func (s *Server) readBody(r *nethttp.Request) ([]byte, error) {
	if r.ContentLength > s.opts.MaxRequestBytes {
		return nil, requestError(&nethttp.MaxBytesError{Limit: s.opts.MaxRequestBytes})
	}
	data, err := readAllGrowing(r.Body, r.ContentLength)
	if err != nil {
		return nil, requestError(err)
	}
	return data, nil
}

// minBodyBuffer is the first buffer of a body of unknown or larger size.
const minBodyBuffer = 4 << 10

// readAllGrowing reads rd to its end into a buffer that starts small and
// doubles when full; announced (-1: unknown) caps the growth at the
// announced size plus one byte to see the end, so it never drives an
// allocation beyond what has arrived.
func readAllGrowing(rd io.Reader, announced int64) ([]byte, error) {
	size := int64(minBodyBuffer)
	if announced >= 0 && announced+1 < size {
		size = announced + 1
	}
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			next := 2 * int64(cap(buf))
			if announced >= 0 && int64(len(buf)) <= announced {
				next = min(next, announced+1)
			}
			grown := make([]byte, len(buf), next)
			copy(grown, buf)
			buf = grown
		}
		n, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// requireJSON refuses a body that says it is not JSON. Requiring the type
// stops a browser form on another site from posting to the API (a
// cross-site form cannot send application/json). When strict, an absent
// Content-Type is refused too (Kuberpult's lock endpoints do so).
func requireJSON(r *nethttp.Request, strict bool) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" && !strict {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		return nil
	}
	return railyard.Errorf(railyard.EUNSUPPORTED, "Content-Type %q is not supported: send the body as application/json", railyard.Truncate(ct, 100)).WithField("Content-Type")
}

// resultStatus is 201 when the command created something, 200 otherwise
// (updated, unchanged, deleted, deployed, queued).
func resultStatus(res *railyard.Result) int {
	if res.Outcome == railyard.OutcomeCreated {
		return nethttp.StatusCreated
	}
	return nethttp.StatusOK
}

// apply runs one command as the request's actor and answers its result.
func (s *Server) apply(w nethttp.ResponseWriter, r *nethttp.Request, cmd railyard.Command) error {
	actor, err := s.actor(r)
	if err != nil {
		return err
	}
	res, err := s.engine.ApplyOne(r.Context(), actor, cmd)
	if err != nil {
		return err
	}
	writeJSON(w, resultStatus(res), answerResult(res, cmd))
	return nil
}

// answerResult returns a result as it is answered. The event of a
// release carries the manifests twice (in its payload and in its changes)
// and the client has just sent them: both copies are left out, otherwise
// publishing 8 MiB of manifests would be answered with 16 MiB. GET
// /api/v1/events has every event in full.
func answerResult(res *railyard.Result, cmd railyard.Command) *railyard.Result {
	cr, ok := cmd.(*railyard.CreateRelease)
	if !ok || res.Event == nil {
		return res
	}
	out := *res
	ev := *res.Event
	bare := *cr
	bare.Manifests = nil
	if payload, err := json.Marshal(&bare); err == nil {
		ev.Payload = payload
	}
	ev.Changes = make([]railyard.Change, len(res.Event.Changes))
	for i, ch := range res.Event.Changes {
		if ch.Release != nil && ch.Release.Manifests != nil {
			rel := *ch.Release
			rel.Manifests = nil
			ch.Release = &rel
		}
		ev.Changes[i] = ch
	}
	out.Event = &ev
	return &out
}
